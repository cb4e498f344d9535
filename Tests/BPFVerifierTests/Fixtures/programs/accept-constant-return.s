# Checks: the smallest program: a constant in r0 and exit.
# Type: socket_filter
# Expect: accept
r0 = 0
exit
