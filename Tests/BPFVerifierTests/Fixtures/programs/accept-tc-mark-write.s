# Checks: a TC program may write skb->mark.
# Type: sched_cls
# Expect: accept
r2 = 1
*(u32 *)(r1 + 8) = r2
r0 = 0
exit
