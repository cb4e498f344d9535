# Checks: r4 = data + x (x a multiple of 4 up to 60) is not itself checked, but its copy r5 = r4 + 8 is: the check carries over to r4, which shares r5's variable part, so 4 bytes at r4 + 4 may be read.
# Type: xdp
# Expect: accept
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
r0 = *(u32 *)(r4 + 4)
exit
r0 = 2
exit
