# Checks: a perf event program reads sample_period.
# Type: perf_event
# Expect: accept
r0 = *(u64 *)(r1 + 168)
r0 = 0
exit
