# Checks: writing past the end of a 16-byte reservation is refused.
# Type: socket_filter
# Maps: ringbuf 0 0 4096
# Expect: reject
r1 = map[idx:0]
r2 = 16
r3 = 0
call 131
if r0 == 0 goto +5
r1 = 7
*(u64 *)(r0 + 12) = r1
r1 = r0
r2 = 0
call 132
r0 = 0
exit
