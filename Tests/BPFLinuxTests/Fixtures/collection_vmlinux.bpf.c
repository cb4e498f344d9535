// CO-RE with the vmlinux.h that `swiftbpf btf dump /sys/kernel/btf/vmlinux --format c`
// writes (the test generates it; nothing else is included): every record is
// preserve_access_index, so reading task->pid is relocated against the running kernel.
#include "vmlinux.h"

#define SEC(name) __attribute__((section(name), used))

static __u64 (*bpf_get_current_task_btf)(void) = (void *)BPF_FUNC_get_current_task_btf;

__u64 seen_pid;
__u64 seen_tgid;

SEC("tp_btf/sched_switch") int on_switch(__u64 *ctx) {
    struct task_struct *next = (struct task_struct *)ctx[2];
    seen_pid = next->pid;
    return 0;
}

SEC("tp_btf/sys_enter") int on_enter(__u64 *ctx) {
    struct task_struct *task = (struct task_struct *)bpf_get_current_task_btf();
    seen_tgid = task->tgid;
    return 0;
}

char LICENSE[] SEC("license") = "GPL";
