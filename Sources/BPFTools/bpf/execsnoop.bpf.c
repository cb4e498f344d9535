// execsnoop: every execve(2) with its arguments and result. The arguments are read at
// sys_enter_execve, while the caller's memory still holds them; the event is sent at
// sys_exit_execve, when the result (and the new command name) is known.
// Layout of struct exec_event: ExecSnoop.swift decodes the same offsets.
#include "events.h"

#define ARGUMENT_SIZE 128
#define MAX_ARGUMENTS 60
#define ARGUMENTS_SIZE (ARGUMENT_SIZE * MAX_ARGUMENTS)

const volatile __s32 target_pid = 0;      // 0: every process
const volatile __u32 target_uid = -1;     // -1: every user
const volatile __u32 max_arguments = 20;

struct exec_event {
    __u32 pid;
    __u32 ppid;
    __u32 uid;
    __s32 return_value;
    __u32 argument_count;   // arguments read, NUL-terminated one after another
    __u32 arguments_size;
    __u32 truncated;        // 1 when there were more arguments than max_arguments
    __u32 padding;
    char comm[TASK_COMM_LEN];
    char arguments[ARGUMENTS_SIZE];
};

struct {
    __uint(type, BPF_MAP_TYPE_HASH);
    __uint(max_entries, 10240);
    __type(key, __u32);
    __type(value, struct exec_event);
} pending SEC(".maps");

static const struct exec_event empty_event = {};

SEC("tracepoint/syscalls/sys_enter_execve")
int execsnoop_enter(struct trace_event_raw_sys_enter *context)
{
    __u64 pid_tgid = bpf_get_current_pid_tgid();
    __u32 pid = pid_tgid >> 32, tid = (__u32)pid_tgid;
    __u32 uid = (__u32)bpf_get_current_uid_gid();
    if (target_pid && pid != target_pid)
        return 0;
    if (target_uid != (__u32)-1 && uid != target_uid)
        return 0;
    if (bpf_map_update_elem(&pending, &tid, &empty_event, BPF_NOEXIST))
        return 0;
    struct exec_event *event = bpf_map_lookup_elem(&pending, &tid);
    if (!event)
        return 0;
    struct task_struct *task = (struct task_struct *)bpf_get_current_task();
    event->pid = pid;
    struct task_struct *parent = CORE_READ(task->real_parent);
    event->ppid = CORE_READ(parent->tgid);
    event->uid = uid;

    const char *const *argv = (const char *const *)context->args[1];
    for (__u32 index = 0; index < MAX_ARGUMENTS && index < max_arguments; index++) {
        const char *argument = 0;
        bpf_probe_read_user(&argument, sizeof(argument), &argv[index]);
        if (!argument)
            return 0;
        __u32 offset = event->arguments_size;
        if (offset > ARGUMENTS_SIZE - ARGUMENT_SIZE)
            return 0;
        long length = bpf_probe_read_user_str(&event->arguments[offset], ARGUMENT_SIZE, argument);
        if (length <= 0)
            return 0;
        event->argument_count++;
        event->arguments_size += length;
    }
    // Stopped at max_arguments: say whether there was more.
    const char *next = 0;
    bpf_probe_read_user(&next, sizeof(next), &argv[max_arguments < MAX_ARGUMENTS ? max_arguments : MAX_ARGUMENTS]);
    event->truncated = next != 0;
    return 0;
}

SEC("tracepoint/syscalls/sys_exit_execve")
int execsnoop_exit(struct trace_event_raw_sys_exit *context)
{
    __u32 tid = (__u32)bpf_get_current_pid_tgid();
    struct exec_event *event = bpf_map_lookup_elem(&pending, &tid);
    if (!event)
        return 0;
    event->return_value = context->ret;
    bpf_get_current_comm(event->comm, sizeof(event->comm));
    __u32 size = __builtin_offsetof(struct exec_event, arguments) + event->arguments_size;
    if (size > sizeof(*event))
        size = sizeof(*event);
    if (bpf_ringbuf_output(&events, event, size, event_wakeup_flags()))
        __sync_fetch_and_add(&lost_events, 1);
    bpf_map_delete_elem(&pending, &tid);
    return 0;
}

char LICENSE[] SEC("license") = "GPL";
