# Checks: an XDP program may not write its context.
# Type: xdp
# Expect: reject
r2 = 0
*(u32 *)(r1 + 12) = r2
r0 = 2
exit
