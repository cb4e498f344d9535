# Checks: r2 = r1; r2 += 40 is linked to r1, so r1 <= 30 bounds r2 to [40, 70], past the end of the 64-byte map value: refused.
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
r2 = r1
r2 += 40
if r1 > 30 goto +3
r4 = r0
r4 += r2
r0 = *(u8 *)(r4 + 0)
r0 = 0
exit
