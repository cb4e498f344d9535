// Programs that read kernel structs through BTF-typed pointers (bpf_get_current_task_btf's
// task_struct and the pointer fields loaded from it), right and wrong, for the
// verifier-agreement corpus. The structs are declared with only the fields read and
// relocated by CO-RE against the running kernel, as libbpf does, before both verifiers see
// them. Accepted also: mm->exe_file, which the kernel lists as possibly NULL, read through
// without a check (the kernel's reads through such pointers cannot fault), and the task in a
// TC program. Refused: a write into the task, half of a pointer field, bpf_task_pt_regs given
// another struct.
#include <linux/types.h>
#include <linux/bpf.h>

#define SEC(name) __attribute__((section(name), used))

struct inode { unsigned long i_ino; } __attribute__((preserve_access_index));
struct file { struct inode *f_inode; } __attribute__((preserve_access_index));
struct mm_struct { struct file *exe_file; } __attribute__((preserve_access_index));
struct task_struct {
    int pid;
    int tgid;
    struct task_struct *real_parent;
    struct mm_struct *mm;
} __attribute__((preserve_access_index));
struct pt_regs { unsigned long ip; } __attribute__((preserve_access_index));

static struct task_struct *(*bpf_get_current_task_btf)(void) = (void *)158;
static struct pt_regs *(*bpf_task_pt_regs)(struct task_struct *task) = (void *)175;

__u64 seen;

SEC("raw_tp/sys_enter") int task_tgid(void *ctx) {
    seen = bpf_get_current_task_btf()->tgid;
    return 0;
}

SEC("raw_tp/sys_enter") int parent_tgid(void *ctx) {
    seen = bpf_get_current_task_btf()->real_parent->tgid;
    return 0;
}

SEC("kprobe/do_nanosleep") int task_registers(void *ctx) {
    struct pt_regs *regs = bpf_task_pt_regs(bpf_get_current_task_btf());
    seen = regs->ip;
    return 0;
}

SEC("raw_tp/sys_enter") int exe_inode_checked(void *ctx) {
    struct mm_struct *mm = bpf_get_current_task_btf()->mm;
    struct file *exe = mm->exe_file;
    if (exe) seen = exe->f_inode->i_ino;
    return 0;
}

SEC("raw_tp/sys_enter") int exe_inode_unchecked(void *ctx) {
    seen = bpf_get_current_task_btf()->mm->exe_file->f_inode->i_ino;
    return 0;
}

SEC("raw_tp/sys_enter") int task_write(void *ctx) {
    bpf_get_current_task_btf()->tgid = 1;
    return 0;
}

SEC("raw_tp/sys_enter") int pointer_half(void *ctx) {
    struct task_struct *task = bpf_get_current_task_btf();
    seen = *(volatile __u32 *)&task->real_parent;
    return 0;
}

SEC("raw_tp/sys_enter") int registers_of_a_parent_mm(void *ctx) {
    struct pt_regs *regs = bpf_task_pt_regs((struct task_struct *)bpf_get_current_task_btf()->mm);
    seen = regs->ip;
    return 0;
}

SEC("tc") int task_in_tc(struct __sk_buff *skb) {
    return bpf_get_current_task_btf()->tgid;
}

char _license[] SEC("license") = "GPL";
