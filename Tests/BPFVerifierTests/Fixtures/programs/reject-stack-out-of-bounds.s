# Checks: a store below the 512-byte stack is refused.
# Type: socket_filter
# Expect: reject
r1 = 1
*(u64 *)(r10 - 520) = r1
r0 = 0
exit
