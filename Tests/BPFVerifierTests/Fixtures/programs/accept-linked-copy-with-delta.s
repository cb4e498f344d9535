# Checks: r2 = r1; r2 += 5 stays linked to r1: the branch r1 <= 30 bounds r2 to [5, 35], which indexes a 64-byte map value.
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
if r0 == 0 goto +8
r1 = *(u32 *)(r6 + 0)
r2 = r1
r2 += 5
if r1 > 30 goto +3
r4 = r0
r4 += r2
r0 = *(u8 *)(r4 + 0)
r0 = 0
exit
