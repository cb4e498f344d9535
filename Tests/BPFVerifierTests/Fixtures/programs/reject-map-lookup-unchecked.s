# Checks: dereferencing a hash map lookup's result without a NULL check is refused.
# Type: socket_filter
# Maps: hash 4 8 16
# Expect: reject
r1 = 0
*(u32 *)(r10 - 4) = r1
r2 = r10
r2 += -4
r1 = map[idx:0]
call 1
r0 = *(u64 *)(r0 + 0)
exit
