# Checks: pruning keeps a number used later as an offset: the safe side (r3 = 0) reaches the join first, the other (r3 = 100) must still be checked.
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
if r0 == 0 goto +11
r2 = *(u32 *)(r6 + 0)
r3 = 100
if r2 & 1 goto +1
r3 = 0
r4 = r3
*(u64 *)(r10 - 16) = r4
r5 = *(u64 *)(r10 - 16)
r0 += r5
r0 = *(u8 *)(r0 + 0)
r0 = 0
exit
r0 = 0
exit
