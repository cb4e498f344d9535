// biolatency: block I/O latency, from issue to the device to completion, as a log2
// histogram. Raw tracepoints block_rq_issue(rq) and block_rq_complete(rq, error, bytes),
// which hand over the request itself to key the start time by (bcc uses kprobes or these).
#include "histogram.h"

const volatile __u8 milliseconds = 0;        // else microseconds

struct {
    __uint(type, BPF_MAP_TYPE_HASH);
    __uint(max_entries, 10240);
    __type(key, __u64);
    __type(value, __u64);
} issued SEC(".maps");

SEC("raw_tp/block_rq_issue")
int biolatency_issue(struct bpf_raw_tracepoint_args *context)
{
    __u64 request = context->args[0];
    __u64 now = bpf_ktime_get_ns();
    bpf_map_update_elem(&issued, &request, &now, BPF_ANY);
    return 0;
}

SEC("raw_tp/block_rq_complete")
int biolatency_complete(struct bpf_raw_tracepoint_args *context)
{
    __u64 request = context->args[0];
    __u64 *start = bpf_map_lookup_elem(&issued, &request);
    if (!start)
        return 0;
    __u64 delta = bpf_ktime_get_ns() - *start;
    bpf_map_delete_elem(&issued, &request);
    histogram_add(milliseconds ? delta / 1000000 : delta / 1000);
    return 0;
}

char LICENSE[] SEC("license") = "GPL";
