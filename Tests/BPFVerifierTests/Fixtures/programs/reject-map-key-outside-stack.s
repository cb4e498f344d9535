# Checks: a map key must lie inside the stack: 4 bytes at fp-2 run past its top.
# Type: socket_filter
# Maps: array 4 8 1
# Expect: reject
r2 = r10
r2 += -2
r1 = map[idx:0]
call 1
r0 = 0
exit
