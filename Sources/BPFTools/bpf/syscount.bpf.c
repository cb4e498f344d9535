// syscount: system calls counted by syscall or by process, with their total time, from
// the raw_syscalls:sys_enter and sys_exit tracepoints (every system call of every task).
// Layout of struct syscall_totals: SyscallCount.swift decodes the same offsets.
#include "tools.h"

const volatile __s32 target_pid = 0;     // 0: every process
const volatile __u8 failed_only = 0;     // only calls that returned an error
const volatile __s32 target_errno = 0;   // only calls that failed with this errno (0: any)
const volatile __u8 measure_time = 0;    // also sum the time spent in each call
const volatile __u8 by_process = 0;      // key by process instead of by syscall

struct syscall_totals {
    __u64 count;
    __u64 total_ns;
    char comm[TASK_COMM_LEN];
};

struct {
    __uint(type, BPF_MAP_TYPE_HASH);
    __uint(max_entries, 10240);
    __type(key, __u32);
    __type(value, __u64);
} started SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_HASH);
    __uint(max_entries, 10240);
    __type(key, __u32);
    __type(value, struct syscall_totals);
} totals SEC(".maps");

static const struct syscall_totals empty_totals = {};

SEC("tracepoint/raw_syscalls/sys_enter")
int syscount_enter(struct trace_event_raw_sys_enter *context)
{
    if (!measure_time)
        return 0;
    __u64 pid_tgid = bpf_get_current_pid_tgid();
    if (target_pid && (pid_tgid >> 32) != target_pid)
        return 0;
    __u32 tid = (__u32)pid_tgid;
    __u64 now = bpf_ktime_get_ns();
    bpf_map_update_elem(&started, &tid, &now, BPF_ANY);
    return 0;
}

SEC("tracepoint/raw_syscalls/sys_exit")
int syscount_exit(struct trace_event_raw_sys_exit *context)
{
    __u64 pid_tgid = bpf_get_current_pid_tgid();
    __u32 pid = pid_tgid >> 32, tid = (__u32)pid_tgid;
    if (target_pid && pid != target_pid)
        return 0;
    long result = context->ret;
    if (failed_only && result >= 0)
        return 0;
    if (target_errno && result != -target_errno)
        return 0;
    __u64 elapsed = 0;
    if (measure_time) {
        __u64 *start = bpf_map_lookup_elem(&started, &tid);
        if (!start)
            return 0;
        elapsed = bpf_ktime_get_ns() - *start;
        bpf_map_delete_elem(&started, &tid);
    }
    __u32 key = by_process ? pid : (__u32)context->id;
    struct syscall_totals *entry = bpf_map_lookup_elem(&totals, &key);
    if (!entry) {
        bpf_map_update_elem(&totals, &key, &empty_totals, BPF_NOEXIST);
        entry = bpf_map_lookup_elem(&totals, &key);
        if (!entry)
            return 0;
        if (by_process)
            bpf_get_current_comm(entry->comm, sizeof(entry->comm));
    }
    __sync_fetch_and_add(&entry->count, 1);
    if (measure_time)
        __sync_fetch_and_add(&entry->total_ns, elapsed);
    return 0;
}

char LICENSE[] SEC("license") = "GPL";
