# Checks: exit with nothing in r0 is refused.
# Type: socket_filter
# Expect: reject
exit
