# Checks: stack accesses must be aligned to their size.
# Type: socket_filter
# Expect: reject
r1 = 1
*(u32 *)(r10 - 6) = r1
r0 = 0
exit
