# Checks: a socket reference not released on the path where the socket was found is refused.
# Type: sched_cls
# Expect: reject
r6 = r1
r1 = 0
*(u64 *)(r10 - 16) = r1
*(u64 *)(r10 - 8) = r1
r1 = r6
r2 = r10
r2 += -16
r3 = 12
r4 = -1
r5 = 0
call 84
if r0 == 0 goto +1
r7 = *(u32 *)(r0 + 4)
r0 = 0
exit
