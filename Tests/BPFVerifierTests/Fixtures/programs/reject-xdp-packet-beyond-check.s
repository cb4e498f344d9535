# Checks: a check for 14 bytes does not allow reading bytes 14 and 15.
# Type: xdp
# Expect: reject
r2 = *(u32 *)(r1 + 0)
r3 = *(u32 *)(r1 + 4)
r4 = r2
r4 += 14
if r4 > r3 goto +2
r0 = *(u16 *)(r2 + 14)
exit
r0 = 2
exit
