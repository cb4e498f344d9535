# Checks: pruning keeps what a check proved for a pointer's variable part: at the join (17) the path that skipped the check of r5 = r4 + 8 must not be taken as covered by the checked one, explored first; its read through r4 is refused.
# Type: xdp
# Expect: reject
r0 = 0
r2 = *(u32 *)(r1 + 0)
r3 = *(u32 *)(r1 + 4)
r4 = r2
r4 += 8
if r4 > r3 goto +14
r6 = *(u8 *)(r2 + 0)
r6 &= 60
r4 = r2
r4 += r6
r5 = r4
r5 += 8
if r6 == 4 goto +4
if r5 > r3 goto +6
r0 = 0
r0 = 0
r0 = 0
if r6 == 8 goto +0
r0 = *(u32 *)(r4 + 4)
exit
r0 = 2
exit
