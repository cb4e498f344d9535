// runqlat: how long runnable tasks wait on a CPU's run queue, as a log2 histogram. A task's
// wait starts when it is woken (sched_wakeup, sched_wakeup_new) or preempted while still
// runnable (sched_switch away from it), and ends when sched_switch runs it. Raw tracepoints,
// because they hand over the task_struct, whose state tells a preempted task from one that
// went to sleep (the tracepoint's prev_state encodes preemption differently across kernels).
#include "histogram.h"

const volatile __s32 target_pid = 0;         // 0: every process
const volatile __u8 milliseconds = 0;        // else microseconds

struct {
    __uint(type, BPF_MAP_TYPE_HASH);
    __uint(max_entries, 10240);
    __type(key, __u32);
    __type(value, __u64);
} enqueued SEC(".maps");

static __always_inline void note_enqueue(struct task_struct *task)
{
    if (target_pid && CORE_READ(task->tgid) != target_pid)
        return;
    __u32 pid = CORE_READ(task->pid);
    if (!pid)
        return;
    __u64 now = bpf_ktime_get_ns();
    bpf_map_update_elem(&enqueued, &pid, &now, BPF_ANY);
}

SEC("raw_tp/sched_wakeup")
int runqlat_wakeup(struct bpf_raw_tracepoint_args *context)
{
    note_enqueue((struct task_struct *)context->args[0]);
    return 0;
}

SEC("raw_tp/sched_wakeup_new")
int runqlat_wakeup_new(struct bpf_raw_tracepoint_args *context)
{
    note_enqueue((struct task_struct *)context->args[0]);
    return 0;
}

// sched_switch(preempt, prev, next, prev_state)
SEC("raw_tp/sched_switch")
int runqlat_switch(struct bpf_raw_tracepoint_args *context)
{
    struct task_struct *previous = (struct task_struct *)context->args[1];
    struct task_struct *next = (struct task_struct *)context->args[2];
    if (CORE_READ(previous->__state) == 0)   // TASK_RUNNING: preempted, waits again
        note_enqueue(previous);
    __u32 pid = CORE_READ(next->pid);
    __u64 *start = bpf_map_lookup_elem(&enqueued, &pid);
    if (!start)
        return 0;
    __u64 delta = bpf_ktime_get_ns() - *start;
    bpf_map_delete_elem(&enqueued, &pid);
    histogram_add(milliseconds ? delta / 1000000 : delta / 1000);
    return 0;
}

char LICENSE[] SEC("license") = "GPL";
