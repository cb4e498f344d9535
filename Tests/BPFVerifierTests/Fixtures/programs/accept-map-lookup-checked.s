# Checks: a map value is used only after the NULL check; the key is on the stack.
# Type: socket_filter
# Maps: array 4 8 1
# Expect: accept
r1 = 0
*(u32 *)(r10 - 4) = r1
r2 = r10
r2 += -4
r1 = map[idx:0]
call 1
if r0 == 0 goto +2
r1 = *(u64 *)(r0 + 0)
r0 = 0
r0 = 0
exit
