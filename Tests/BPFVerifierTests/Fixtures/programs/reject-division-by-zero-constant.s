# Checks: dividing by the constant zero is refused.
# Type: socket_filter
# Expect: reject
r0 = 1
r0 /= 0
exit
