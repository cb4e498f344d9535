# Checks: the fields of a socket may not be written.
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
if r0 == 0 goto +4
r1 = 1
*(u32 *)(r0 + 16) = r1
r1 = r0
call 86
r0 = 0
exit
