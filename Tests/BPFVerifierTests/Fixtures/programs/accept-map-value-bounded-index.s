# Checks: a variable offset into a map value is accepted when its range is proven by a branch.
# Type: socket_filter
# Maps: array 4 64 1
# Expect: accept
r6 = r1
r1 = 0
*(u32 *)(r10 - 4) = r1
r2 = r10
r2 += -4
r1 = map[idx:0]
call 1
if r0 == 0 goto +6
r1 = *(u32 *)(r6 + 0)
if r1 > 56 goto +4
r0 += r1
r1 = *(u64 *)(r0 + 0)
r0 = 0
exit
r0 = 0
exit
