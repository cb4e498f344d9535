# Checks: a loop of 10 iterations is accepted: each iteration's state differs and the last ends it.
# Type: socket_filter
# Expect: accept
r0 = 0
r1 = 0
r0 += r1
r1 += 1
if r1 < 10 goto -3
exit
