# Checks: legacy packet loads are for socket buffer programs only.
# Type: xdp
# Expect: reject
r6 = r1
r0 = *(u8 *)skb[0]
exit
