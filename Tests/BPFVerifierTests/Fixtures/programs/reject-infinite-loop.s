# Checks: a loop that comes back in the same state is refused.
# Type: socket_filter
# Expect: reject
r0 = 0
goto -1
exit
