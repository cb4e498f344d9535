# Checks: dead code is refused, as the kernel does.
# Type: socket_filter
# Expect: reject
r0 = 0
exit
r0 = 1
exit
