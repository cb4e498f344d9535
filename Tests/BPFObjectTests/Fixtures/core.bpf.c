// Object-file fixture: CO-RE. Field reads through preserve_access_index structs in a
// program and in a subprogram, field and type facts, and an enum value, so that .BTF.ext
// has CO-RE relocations in two functions; ObjectCORETests checks that they are re-based
// onto the linked program, at the instructions they patch.
#include "swiftbpf_helpers.h"

struct mm_struct { unsigned long total_vm; } __core;
struct task_struct {
    int pid;
    int tgid;
    unsigned int flags : 4;
    struct mm_struct *mm;
    char comm[16];
} __core;
enum task_state { TASK_RUNNING = 0, TASK_SLEEPING = 1 };

static __noinline unsigned long vm_pages(struct task_struct *task) {
    return task->mm->total_vm;
}

SEC("fentry/do_exit") int read_task(struct task_struct *task) {
    int result = task->pid + task->comm[1];
    result += __builtin_preserve_field_info(task->flags, 2);
    result += __builtin_preserve_type_info(*task, 1);
    result += __builtin_preserve_enum_value(*(enum task_state *)TASK_SLEEPING, 1);
    return result + (int)vm_pages(task);
}

char LICENSE[] SEC("license") = "GPL";
