# Checks: a TC program proves packet bytes with the comparison written the other way round.
# Type: sched_cls
# Expect: accept
r2 = *(u32 *)(r1 + 76)
r3 = *(u32 *)(r1 + 80)
r4 = r2
r4 += 4
if r3 < r4 goto +2
r0 = *(u32 *)(r2 + 0)
exit
r0 = 0
exit
