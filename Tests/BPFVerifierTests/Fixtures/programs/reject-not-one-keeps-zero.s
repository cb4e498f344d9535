# Checks: w1 != 1 is no edge of r1 in [0, 64], which may still be 0: a map value read at r0 + r1 - 1 may fall before the value. Refused.
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
if r0 == 0 goto +7
r1 = *(u32 *)(r6 + 0)
if r1 > 64 goto +5
if w1 == 1 goto +4
r4 = r0
r4 += r1
r0 = *(u8 *)(r4 - 1)
r0 = 0
exit
