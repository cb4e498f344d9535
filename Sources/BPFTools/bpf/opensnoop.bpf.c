// opensnoop: every open(2), openat(2) and openat2(2) with its flags, path and result. The
// path and flags are noted at the syscall's enter tracepoint, per thread; the event goes out
// at its exit tracepoint with the file descriptor or error.
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

// struct open_how of openat2(2) (linux/openat2.h): the flags and mode it takes by pointer.
struct open_how {
    __u64 flags;
    __u64 mode;
    __u64 resolve;
};

static __always_inline int note_open(const char *path, __s32 flags, __s32 mode)
{
    __u64 pid_tgid = bpf_get_current_pid_tgid();
    __u32 pid = pid_tgid >> 32, tid = (__u32)pid_tgid;
    if (target_pid && pid != target_pid)
        return 0;
    if (target_tid && tid != target_tid)
        return 0;
    if (target_uid != (__u32)-1 && (__u32)bpf_get_current_uid_gid() != target_uid)
        return 0;
    struct open_arguments arguments = { .path = path, .flags = flags, .mode = mode };
    bpf_map_update_elem(&pending, &tid, &arguments, BPF_ANY);
    return 0;
}

static __always_inline int report_open(struct trace_event_raw_sys_exit *context)
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

// openat(dfd, path, flags, mode)
SEC("tracepoint/syscalls/sys_enter_openat")
int opensnoop_enter(struct trace_event_raw_sys_enter *context)
{
    return note_open((const char *)context->args[1], (__s32)context->args[2], (__s32)context->args[3]);
}

SEC("tracepoint/syscalls/sys_exit_openat")
int opensnoop_exit(struct trace_event_raw_sys_exit *context)
{
    return report_open(context);
}

// open(path, flags, mode): what bcc traces with a kprobe; a tracepoint here.
SEC("tracepoint/syscalls/sys_enter_open")
int opensnoop_enter_open(struct trace_event_raw_sys_enter *context)
{
    return note_open((const char *)context->args[0], (__s32)context->args[1], (__s32)context->args[2]);
}

SEC("tracepoint/syscalls/sys_exit_open")
int opensnoop_exit_open(struct trace_event_raw_sys_exit *context)
{
    return report_open(context);
}

// openat2(dfd, path, how, size): flags and mode are in user memory.
SEC("tracepoint/syscalls/sys_enter_openat2")
int opensnoop_enter_openat2(struct trace_event_raw_sys_enter *context)
{
    struct open_how how = {};
    bpf_probe_read_user(&how, sizeof(how), (const void *)context->args[2]);
    return note_open((const char *)context->args[1], (__s32)how.flags, (__s32)how.mode);
}

SEC("tracepoint/syscalls/sys_exit_openat2")
int opensnoop_exit_openat2(struct trace_event_raw_sys_exit *context)
{
    return report_open(context);
}

char LICENSE[] SEC("license") = "GPL";
