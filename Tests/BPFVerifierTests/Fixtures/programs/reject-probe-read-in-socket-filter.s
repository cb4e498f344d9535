# Checks: socket filters may not call bpf_get_current_pid_tgid.
# Type: socket_filter
# Expect: reject
call 14
r0 = 0
exit
