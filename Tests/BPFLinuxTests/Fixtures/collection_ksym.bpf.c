// A typed __ksym: a per-CPU kernel variable found by its BTF id. The kernel also needs the
// variable in /proc/kallsyms (CONFIG_KALLSYMS_ALL), so the test accepts either outcome.
#include "collection_helpers.h"

extern const int bpf_prog_active __ksym;
__u64 prog_active_seen = 99;

SEC("syscall") int read_ksym(void *ctx) {
    const int *active = bpf_this_cpu_ptr(&bpf_prog_active);
    prog_active_seen = *active;
    return 0;
}

char LICENSE[] SEC("license") = "GPL";
