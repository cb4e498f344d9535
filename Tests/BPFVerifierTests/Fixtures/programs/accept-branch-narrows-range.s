# Checks: a signed range check makes a stack index safe.
# Type: socket_filter
# Expect: accept
r2 = 0
*(u64 *)(r10 - 8) = r2
r1 = *(u32 *)(r1 + 0)
r1 &= 7
r3 = r10
r3 += -8
r0 = *(u8 *)(r3 + 0)
exit
