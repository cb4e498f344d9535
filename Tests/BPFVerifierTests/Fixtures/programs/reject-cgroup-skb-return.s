# Checks: cgroup skb programs must return 0 or 1.
# Type: cgroup_skb
# Expect: reject
r0 = 2
exit
