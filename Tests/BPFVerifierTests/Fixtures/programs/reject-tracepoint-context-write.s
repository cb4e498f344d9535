# Checks: tracepoint contexts are read-only.
# Type: tracepoint
# Expect: reject
r2 = 0
*(u64 *)(r1 + 8) = r2
r0 = 0
exit
