# Checks: adding a number to a checked packet pointer makes a new variable part that no check covers: the read through it is refused.
# Type: xdp
# Expect: reject
r2 = *(u32 *)(r1 + 0)
r3 = *(u32 *)(r1 + 4)
r4 = r2
r4 += 1
if r4 > r3 goto +10
r6 = *(u8 *)(r2 + 0)
r6 &= 60
r4 = r2
r4 += r6
r5 = r4
r5 += 8
if r5 > r3 goto +3
r4 += r6
r0 = *(u32 *)(r4 + 0)
exit
r0 = 2
exit
