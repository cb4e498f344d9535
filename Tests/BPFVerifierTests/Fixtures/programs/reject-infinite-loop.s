# Checks: a jump to itself comes back in the same state and is refused as an endless loop.
# Type: socket_filter
# Expect: reject
r0 = 0
r2 = *(u32 *)(r1 + 0)
if r2 == 0 goto +1
goto -1
exit
