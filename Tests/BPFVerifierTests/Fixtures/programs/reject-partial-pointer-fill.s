# Checks: reading half of a spilled pointer is refused.
# Type: socket_filter
# Expect: reject
*(u64 *)(r10 - 8) = r1
r0 = *(u32 *)(r10 - 8)
exit
