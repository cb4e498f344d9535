# Checks: an array lookup with a key from the packet length needs the NULL check.
# Type: socket_filter
# Maps: array 4 8 4
# Expect: reject
r1 = *(u32 *)(r1 + 0)
*(u32 *)(r10 - 4) = r1
r2 = r10
r2 += -4
r1 = map[idx:0]
call 1
r0 = *(u64 *)(r0 + 0)
exit
