// A BTF-enabled raw tracepoint program, loaded but never attached: the loader must find
// the kernel's `btf_trace_sched_switch` typedef and pass its id as attach_btf_id.
#include "map_program_helpers.h"

__u64 switches = 0;

SEC("tp_btf/sched_switch")
int on_switch(__u64 *ctx) {
    __sync_fetch_and_add(&switches, 1);
    return 0;
}

char LICENSE[] SEC("license") = "GPL";
