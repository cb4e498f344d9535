# Checks: a map key on the stack must be initialised.
# Type: socket_filter
# Maps: array 4 8 1
# Expect: reject
r2 = r10
r2 += -4
r1 = map[idx:0]
call 1
r0 = 0
exit
