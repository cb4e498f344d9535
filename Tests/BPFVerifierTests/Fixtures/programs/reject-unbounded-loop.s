# Checks: a loop whose bound is never proven is refused (too complex, or looping).
# Type: socket_filter
# Expect: reject
r0 = 0
r1 = *(u32 *)(r1 + 0)
r1 += -1
if r1 != 0 goto -2
exit
