# Checks: r1-r5 hold nothing after a helper call.
# Type: socket_filter
# Expect: reject
r1 = 1
call 5
r0 = r1
exit
