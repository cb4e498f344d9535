# Checks: a socket filter reads len and protocol and writes cb[0].
# Type: socket_filter
# Expect: accept
r2 = *(u32 *)(r1 + 0)
r3 = *(u16 *)(r1 + 16)
*(u32 *)(r1 + 48) = r2
r0 = r3
exit
