# Checks: w2 = w1 of a number that may not fit in 32 bits (the packet length minus 1 may wrap) is no copy: the branch on r1 leaves r2 unbounded, so it may not index a map value.
# Type: socket_filter
# Maps: array 4 64 1
# Expect: reject
r6 = r1
r1 = 0
*(u32 *)(r10 - 4) = r1
r2 = r10
r2 += -4
r1 = map[idx:0]
call 1
if r0 == 0 goto +8
r1 = *(u32 *)(r6 + 0)
r1 += -1
w2 = w1
if r1 > 30 goto +3
r4 = r0
r4 += r2
r0 = *(u8 *)(r4 + 0)
r0 = 0
exit
