# Checks: a reservation neither submitted nor discarded on one path is refused.
# Type: socket_filter
# Maps: ringbuf 0 0 4096
# Expect: reject
r1 = map[idx:0]
r2 = 16
r3 = 0
call 131
if r0 == 0 goto +1
r0 = 0
r0 = 0
exit
