# Checks: the caller may not use the r0 of a function that returned without setting it.
# Type: socket_filter
# Expect: reject
r1 = 5
call pc+2
r0 += 1
exit
r1 += 1
exit
