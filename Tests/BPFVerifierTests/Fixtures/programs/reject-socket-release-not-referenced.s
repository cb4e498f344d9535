# Checks: bpf_sk_release of a pointer that holds no reference (the context) is refused.
# Type: sched_cls
# Expect: reject
r1 = r1
call 86
r0 = 0
exit
