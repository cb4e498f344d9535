# Checks: a function may return without setting r0 when its caller does not read r0 (clang drops an unused return value).
# Type: socket_filter
# Expect: accept
r1 = 5
call pc+2
r0 = 0
exit
r1 += 1
exit
