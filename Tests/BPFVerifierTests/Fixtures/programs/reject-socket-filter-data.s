# Checks: a socket filter may not read skb->data.
# Type: socket_filter
# Expect: reject
r2 = *(u32 *)(r1 + 76)
r0 = 0
exit
