# Checks: XDP programs may not call bpf_probe_read (a tracing helper).
# Type: xdp
# Expect: reject
r1 = r10
r1 += -8
r2 = 8
r3 = 0
call 4
r0 = 2
exit
