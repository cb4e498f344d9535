// exitsnoop: process exits, with the process's age and its exit code or fatal signal,
// from the sched:sched_process_exit tracepoint (bcc uses the same hook).
// Layout of struct exit_event: ExitSnoop.swift decodes the same offsets.
#include "events.h"

const volatile __s32 target_pid = 0;     // 0: every process
const volatile __u8 failed_only = 0;     // only non-zero exit codes and signals
const volatile __u8 per_thread = 0;      // every thread's exit, not only the process's

struct exit_event {
    __u64 start_time;       // task->start_time (monotonic ns)
    __u64 exit_time;        // bpf_ktime_get_ns (monotonic ns)
    __u32 pid;
    __u32 tid;
    __u32 ppid;
    __s32 exit_code;        // task->exit_code: status << 8 | signal (| 0x80 core dumped)
    char comm[TASK_COMM_LEN];
};

SEC("tracepoint/sched/sched_process_exit")
int exitsnoop_exit(void *context)
{
    __u64 pid_tgid = bpf_get_current_pid_tgid();
    __u32 pid = pid_tgid >> 32, tid = (__u32)pid_tgid;
    if (target_pid && pid != target_pid)
        return 0;
    if (!per_thread && pid != tid)
        return 0;
    struct task_struct *task = (struct task_struct *)bpf_get_current_task();
    int exit_code = CORE_READ(task->exit_code);
    if (failed_only && exit_code == 0)
        return 0;
    struct exit_event *event = reserve_event(sizeof(*event));
    if (!event)
        return 0;
    event->start_time = CORE_READ(task->start_time);
    event->exit_time = bpf_ktime_get_ns();
    event->pid = pid;
    event->tid = tid;
    struct task_struct *parent = CORE_READ(task->real_parent);
    event->ppid = CORE_READ(parent->tgid);
    event->exit_code = exit_code;
    bpf_get_current_comm(event->comm, sizeof(event->comm));
    submit_event(event);
    return 0;
}

char LICENSE[] SEC("license") = "GPL";
