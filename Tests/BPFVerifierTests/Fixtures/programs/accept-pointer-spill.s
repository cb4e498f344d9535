# Checks: a pointer spilled to the stack and filled back is still the context pointer.
# Type: socket_filter
# Expect: accept
*(u64 *)(r10 - 8) = r1
r2 = *(u64 *)(r10 - 8)
r0 = *(u32 *)(r2 + 0)
exit
