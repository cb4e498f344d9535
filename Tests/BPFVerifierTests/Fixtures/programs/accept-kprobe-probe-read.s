# Checks: a kprobe reads pt_regs and calls probe_read_kernel into the stack, which initialises it.
# Type: kprobe
# Expect: accept
r3 = *(u64 *)(r1 + 112)
r1 = r10
r1 += -16
r2 = 16
call 113
r0 = *(u64 *)(r10 - 8)
r0 = 0
exit
