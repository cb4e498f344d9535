# Checks: a value stored to the stack reads back initialised.
# Type: socket_filter
# Expect: accept
r1 = 42
*(u64 *)(r10 - 8) = r1
r0 = *(u64 *)(r10 - 8)
exit
