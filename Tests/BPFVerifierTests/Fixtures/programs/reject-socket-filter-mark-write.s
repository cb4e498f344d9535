# Checks: a socket filter may not write skb->mark.
# Type: socket_filter
# Expect: reject
r2 = 1
*(u32 *)(r1 + 8) = r2
r0 = 0
exit
