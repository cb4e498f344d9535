# Checks: a copy changed after it was made (r2 += 40) is no longer bounded by the branch on r1.
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
if r0 == 0 goto +9
r1 = *(u32 *)(r6 + 0)
r2 = r1
r2 += 40
if r1 > 30 goto +5
r4 = r0
r4 += r2
r0 = *(u8 *)(r4 + 0)
r0 = 0
exit
r0 = 0
exit
