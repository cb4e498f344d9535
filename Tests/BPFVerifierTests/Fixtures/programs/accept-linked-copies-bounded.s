# Checks: a branch on r1 bounds its copies, r2 and the one spilled at fp-16, so all may index a map value.
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
if r0 == 0 goto +11
r1 = *(u32 *)(r6 + 0)
r2 = r1
*(u64 *)(r10 - 16) = r1
if r1 > 30 goto +7
r3 = *(u64 *)(r10 - 16)
r4 = r0
r4 += r2
r4 += r3
r0 = *(u8 *)(r4 + 0)
r0 = 0
exit
r0 = 0
exit
