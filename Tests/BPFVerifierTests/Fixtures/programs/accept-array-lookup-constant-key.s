# Checks: an array lookup with a constant key inside the array needs no NULL check (the kernel's rule since 6.14).
# Type: socket_filter
# Maps: array 4 8 4
# Expect: accept
r1 = 0
*(u32 *)(r10 - 4) = r1
r2 = r10
r2 += -4
r1 = map[idx:0]
call 1
r0 = *(u64 *)(r0 + 0)
exit
