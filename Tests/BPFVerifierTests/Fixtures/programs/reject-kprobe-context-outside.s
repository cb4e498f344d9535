# Checks: reading past the end of pt_regs is refused.
# Type: kprobe
# Expect: reject
r0 = *(u64 *)(r1 + 168)
r0 = 0
exit
