// CO-RE against the running kernel without vmlinux.h: task_struct declared with only the
// field read, marked preserve_access_index, so that its offset is relocated at load.
#include "collection_helpers.h"

struct task_struct {
    int pid;
    int tgid;
} __attribute__((preserve_access_index));

__u64 last_pid;

SEC("tp_btf/sched_switch") int on_switch(__u64 *ctx) {
    struct task_struct *next = (struct task_struct *)ctx[2];
    last_pid = next->pid;
    return 0;
}

SEC("raw_tp/sys_enter") int on_enter(void *ctx) {
    struct task_struct *task = (struct task_struct *)bpf_get_current_task_btf();
    last_pid = task->tgid;
    return 0;
}

char LICENSE[] SEC("license") = "GPL";
