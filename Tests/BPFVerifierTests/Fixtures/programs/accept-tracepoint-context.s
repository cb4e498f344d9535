# Checks: a tracepoint program reads its context at any aligned offset and calls ktime_get_ns.
# Type: tracepoint
# Expect: accept
r6 = *(u64 *)(r1 + 16)
call 5
r0 = 0
exit
