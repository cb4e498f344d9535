# Checks: reading a register never written (r3) is refused.
# Type: socket_filter
# Expect: reject
r0 = r3
exit
