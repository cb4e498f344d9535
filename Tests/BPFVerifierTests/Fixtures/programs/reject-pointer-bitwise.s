# Checks: bitwise operations on pointers are refused.
# Type: socket_filter
# Expect: reject
r2 = r10
r2 &= 8
r0 = 0
exit
