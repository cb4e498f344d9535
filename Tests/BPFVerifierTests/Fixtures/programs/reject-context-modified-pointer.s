# Checks: the context must be accessed through its unmodified pointer.
# Type: socket_filter
# Expect: reject
r1 += 4
r0 = *(u32 *)(r1 + 0)
exit
