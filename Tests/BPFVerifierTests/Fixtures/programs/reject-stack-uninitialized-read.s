# Checks: reading stack bytes never written is refused.
# Type: socket_filter
# Expect: reject
r0 = *(u64 *)(r10 - 16)
exit
