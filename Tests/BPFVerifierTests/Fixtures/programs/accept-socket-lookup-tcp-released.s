# Checks: a TCP socket lookup checked for NULL, its fields read at the sizes struct bpf_sock allows, and released.
# Type: sched_cls
# Expect: accept
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
if r0 == 0 goto +9
r7 = *(u32 *)(r0 + 4)
r7 = *(u8 *)(r0 + 25)
r7 = *(u16 *)(r0 + 30)
r7 = *(u16 *)(r0 + 48)
r7 = *(u32 *)(r0 + 48)
r7 = *(u32 *)(r0 + 72)
r7 = *(u32 *)(r0 + 16)
r1 = r0
call 86
r0 = 0
exit
