# Checks: a cgroup skb program returning 1 is accepted.
# Type: cgroup_skb
# Expect: accept
r0 = 1
exit
