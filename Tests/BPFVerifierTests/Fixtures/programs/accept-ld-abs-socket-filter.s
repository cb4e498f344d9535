# Checks: a socket filter uses a legacy packet load with r6 = ctx.
# Type: socket_filter
# Expect: accept
r6 = r1
r0 = *(u16 *)skb[12]
exit
