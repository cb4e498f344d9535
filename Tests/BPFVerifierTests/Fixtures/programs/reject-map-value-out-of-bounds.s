# Checks: reading past the end of an 8-byte map value is refused.
# Type: socket_filter
# Maps: array 4 8 1
# Expect: reject
r1 = 0
*(u32 *)(r10 - 4) = r1
r2 = r10
r2 += -4
r1 = map[idx:0]
call 1
if r0 == 0 goto +1
r0 = *(u64 *)(r0 + 4)
r0 = 0
exit
