# Checks: a bpf-to-bpf call gets its own frame; the callee's result comes back in r0.
# Type: socket_filter
# Expect: accept
r1 = 5
call pc+2
r0 += 1
exit
r0 = r1
r0 *= 3
exit
