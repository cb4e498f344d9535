// funclatency: how long calls to one user-space function take, as a log2 histogram, from a
// uprobe at its entry and a uretprobe at its return (keyed by thread, so recursion counts
// the outermost call). Attached by FunctionLatency.swift to the binary:symbol given.
#include "histogram.h"

const volatile __s32 target_pid = 0;     // 0: every process (the probe's pid also filters)
const volatile __u64 unit_ns = 1;        // 1: nanoseconds, 1000: µs, 1000000: ms

/// Totals for the average line under the histogram.
__u64 total_time;
__u64 call_count;

struct {
    __uint(type, BPF_MAP_TYPE_HASH);
    __uint(max_entries, 10240);
    __type(key, __u32);
    __type(value, __u64);
} entered SEC(".maps");

SEC("uprobe")
int funclatency_entry(struct pt_regs *registers)
{
    __u64 pid_tgid = bpf_get_current_pid_tgid();
    if (target_pid && (pid_tgid >> 32) != target_pid)
        return 0;
    __u32 tid = (__u32)pid_tgid;
    __u64 now = bpf_ktime_get_ns();
    bpf_map_update_elem(&entered, &tid, &now, BPF_NOEXIST);
    return 0;
}

SEC("uretprobe")
int funclatency_return(struct pt_regs *registers)
{
    __u32 tid = (__u32)bpf_get_current_pid_tgid();
    __u64 *start = bpf_map_lookup_elem(&entered, &tid);
    if (!start)
        return 0;
    __u64 elapsed = (bpf_ktime_get_ns() - *start) / unit_ns;
    bpf_map_delete_elem(&entered, &tid);
    histogram_add(elapsed);
    __sync_fetch_and_add(&total_time, elapsed);
    __sync_fetch_and_add(&call_count, 1);
    return 0;
}

char LICENSE[] SEC("license") = "GPL";
