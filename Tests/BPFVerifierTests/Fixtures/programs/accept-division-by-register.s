# Checks: dividing by a register that may be zero is fine (the result is defined).
# Type: socket_filter
# Expect: accept
r0 = *(u32 *)(r1 + 0)
r2 = *(u32 *)(r1 + 4)
r0 /= r2
exit
