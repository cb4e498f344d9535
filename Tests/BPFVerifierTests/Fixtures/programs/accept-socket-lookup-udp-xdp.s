# Checks: a UDP socket lookup in XDP, released through a copy spilled to the stack.
# Type: xdp
# Expect: accept
r6 = r1
r1 = 0
*(u64 *)(r10 - 16) = r1
*(u64 *)(r10 - 8) = r1
r1 = r6
r2 = r10
r2 += -16
r3 = 12
r4 = -1
r5 = 0
call 85
if r0 == 0 goto +4
*(u64 *)(r10 - 24) = r0
r0 = 0
r1 = *(u64 *)(r10 - 24)
call 86
r0 = 2
exit
