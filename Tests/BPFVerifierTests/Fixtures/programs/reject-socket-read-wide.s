# Checks: an 8-byte read of struct bpf_sock (wider than its 4-byte fields) is refused.
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
if r0 == 0 goto +3
r7 = *(u64 *)(r0 + 0)
r1 = r0
call 86
r0 = 0
exit
