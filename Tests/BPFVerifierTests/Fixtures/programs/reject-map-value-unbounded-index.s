# Checks: the same access without the bound check is refused.
# Type: socket_filter
# Maps: array 4 64 1
# Expect: reject
r6 = r1
r1 = 0
*(u32 *)(r10 - 4) = r1
r2 = r10
r2 += -4
r1 = map[idx:0]
call 1
if r0 == 0 goto +4
r1 = *(u32 *)(r6 + 0)
r0 += r1
r1 = *(u64 *)(r0 + 0)
r0 = 0
r0 = 0
exit
