# Checks: a byte swap keeps known bits: 0x0f00 swapped is at most 15, so the branch always skips the bad load.
# Type: socket_filter
# Expect: accept
r3 = *(u32 *)(r1 + 0)
r3 &= 3840
r3 = be16 r3
if r3 <= 15 goto +1
r0 = *(u64 *)(r3 + 0)
r0 = 0
exit
