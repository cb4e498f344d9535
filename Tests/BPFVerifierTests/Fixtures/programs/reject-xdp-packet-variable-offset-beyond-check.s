# Checks: the check of r5 = r4 + 8 against data_end proves 8 bytes past r4's variable part, not 10: a 4-byte read at r4 + 6 is refused.
# Type: xdp
# Expect: reject
r2 = *(u32 *)(r1 + 0)
r3 = *(u32 *)(r1 + 4)
r4 = r2
r4 += 1
if r4 > r3 goto +9
r5 = *(u8 *)(r2 + 0)
r5 &= 60
r4 = r2
r4 += r5
r5 = r4
r5 += 8
if r5 > r3 goto +2
r0 = *(u32 *)(r4 + 6)
exit
r0 = 2
exit
