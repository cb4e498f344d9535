// opensnoop: every openat(2) with its flags, path and result. The path and flags are
// noted at sys_enter_openat, per thread; the event goes out at sys_exit_openat with the
// file descriptor or error.
// Layout of struct open_event: OpenSnoop.swift decodes the same offsets.
#include "events.h"

#define PATH_SIZE 256

const volatile __s32 target_pid = 0;     // 0: every process
const volatile __s32 target_tid = 0;     // 0: every thread
const volatile __u32 target_uid = -1;    // -1: every user
const volatile __u8 failed_only = 0;

struct open_arguments {
    const char *path;
    __s32 flags;
    __s32 mode;
};

struct open_event {
    __u64 timestamp;        // bpf_ktime_get_ns at the return
    __u32 pid;
    __u32 tid;
    __u32 uid;
    __s32 return_value;     // the descriptor, or -errno
    __s32 flags;
    __s32 mode;
    char comm[TASK_COMM_LEN];
    char path[PATH_SIZE];
};

struct {
    __uint(type, BPF_MAP_TYPE_HASH);
    __uint(max_entries, 10240);
    __type(key, __u32);
    __type(value, struct open_arguments);
} pending SEC(".maps");

SEC("tracepoint/syscalls/sys_enter_openat")
int opensnoop_enter(struct trace_event_raw_sys_enter *context)
{
    __u64 pid_tgid = bpf_get_current_pid_tgid();
    __u32 pid = pid_tgid >> 32, tid = (__u32)pid_tgid;
    if (target_pid && pid != target_pid)
        return 0;
    if (target_tid && tid != target_tid)
        return 0;
    if (target_uid != (__u32)-1 && (__u32)bpf_get_current_uid_gid() != target_uid)
        return 0;
    struct open_arguments arguments = {
        .path = (const char *)context->args[1],
        .flags = (__s32)context->args[2],
        .mode = (__s32)context->args[3],
    };
    bpf_map_update_elem(&pending, &tid, &arguments, BPF_ANY);
    return 0;
}

SEC("tracepoint/syscalls/sys_exit_openat")
int opensnoop_exit(struct trace_event_raw_sys_exit *context)
{
    __u64 pid_tgid = bpf_get_current_pid_tgid();
    __u32 tid = (__u32)pid_tgid;
    struct open_arguments *arguments = bpf_map_lookup_elem(&pending, &tid);
    if (!arguments)
        return 0;
    int result = context->ret;
    if (failed_only && result >= 0)
        goto done;
    struct open_event *event = reserve_event(sizeof(*event));
    if (!event)
        goto done;
    event->timestamp = bpf_ktime_get_ns();
    event->pid = pid_tgid >> 32;
    event->tid = tid;
    event->uid = (__u32)bpf_get_current_uid_gid();
    event->return_value = result;
    event->flags = arguments->flags;
    event->mode = arguments->mode;
    bpf_get_current_comm(event->comm, sizeof(event->comm));
    bpf_probe_read_user_str(event->path, sizeof(event->path), arguments->path);
    submit_event(event);
done:
    bpf_map_delete_elem(&pending, &tid);
    return 0;
}

char LICENSE[] SEC("license") = "GPL";
