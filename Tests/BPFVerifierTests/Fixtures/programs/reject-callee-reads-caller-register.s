# Checks: a callee may not read r6, which belongs to its caller.
# Type: socket_filter
# Expect: reject
r6 = 1
call pc+2
r0 = 0
exit
r0 = r6
exit
