# Checks: a privileged program may read stack bytes it never wrote (they read as an unknown number), as the kernel allows for CAP_PERFMON.
# Type: socket_filter
# Expect: accept
r0 = *(u64 *)(r10 - 16)
exit
