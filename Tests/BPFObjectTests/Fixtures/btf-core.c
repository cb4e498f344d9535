// BTF fixture: CO-RE relocations and BTF.ext func/line info, for the BTF.ext parser tests
// (compiled by the test with clang -target bpf -O2 -g). Each program reads through
// preserve_access_index structs or asks for type/field/enum facts, so that .BTF.ext holds
// relocations of many kinds, and two functions in two sections give func and line info.
#define SEC(name) __attribute__((section(name), used))
#define __core __attribute__((preserve_access_index))

struct mm_struct {
    unsigned long total_vm;
} __core;

struct task_struct {
    int pid;
    int tgid;
    unsigned int flags : 4;
    unsigned int state : 12;
    struct mm_struct *mm;
    char comm[16];
} __core;

enum state { RUNNING = 0, SLEEPING = 1 };

static __attribute__((noinline)) unsigned long vm_size(struct task_struct *task) {
    return task->mm->total_vm;
}

SEC("kprobe/do_exit") int read_fields(struct task_struct *task) {
    return task->pid + task->tgid + task->comm[3] + (int)vm_size(task);
}

SEC("tracepoint/sched/sched_switch") int field_facts(struct task_struct *task) {
    int result = 0;
    result += __builtin_preserve_field_info(task->state, 0);  /* byte offset */
    result += __builtin_preserve_field_info(task->state, 1);  /* byte size */
    result += __builtin_preserve_field_info(task->state, 2);  /* exists */
    result += __builtin_preserve_field_info(task->state, 3);  /* signed */
    result += __builtin_preserve_field_info(task->state, 4);  /* left shift */
    result += __builtin_preserve_field_info(task->state, 5);  /* right shift */
    result += __builtin_btf_type_id(*task, 0);                /* local type id */
    result += __builtin_btf_type_id(*task, 1);                /* target type id */
    result += __builtin_preserve_type_info(*task, 0);         /* type exists */
    result += __builtin_preserve_type_info(*task, 1);         /* type size */
    result += __builtin_preserve_type_info(*task, 2);         /* type matches */
    result += __builtin_preserve_enum_value(*(enum state *)SLEEPING, 0);  /* enum value exists */
    result += __builtin_preserve_enum_value(*(enum state *)SLEEPING, 1);  /* enum value */
    return result;
}

char LICENSE[] SEC("license") = "GPL";
