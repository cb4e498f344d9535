# Checks: reading the packet without a data_end check is refused.
# Type: xdp
# Expect: reject
r2 = *(u32 *)(r1 + 0)
r0 = *(u16 *)(r2 + 12)
exit
