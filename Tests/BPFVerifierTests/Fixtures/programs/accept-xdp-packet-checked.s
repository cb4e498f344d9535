# Checks: an XDP program reads the packet after proving data + 14 <= data_end.
# Type: xdp
# Expect: accept
r2 = *(u32 *)(r1 + 0)
r3 = *(u32 *)(r1 + 4)
r4 = r2
r4 += 14
if r4 > r3 goto +2
r0 = *(u16 *)(r2 + 12)
exit
r0 = 2
exit
