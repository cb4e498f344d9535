// CO-RE fixture: one relocation of every kind — through preserve_access_index structs,
// __builtin_preserve_access_index and the builtins of swiftbpf_core.h — for
// CORERelocatorTests. The types here are the program's view; Fixtures/core-target.c is
// the "kernel" they are relocated against, where fields have moved, grown, changed
// signedness, gone into an anonymous union or away, and enum values have changed. The
// same program is also relocated against the running kernel's BTF, whose task_struct,
// cred and enum values it reads.
#include "swiftbpf_core.h"

typedef int pid_t;

struct cred { unsigned int uid; } __core;
struct files_struct { int count; } __core;     /* target: only declared */

struct task_struct {
    int pid;
    int tgid;
    unsigned int flags;        /* target: 64-bit unsigned, so the load widens */
    int prio;                  /* target: signed long, so the load is poisoned */
    struct cred *cred;
    char comm[16];
    unsigned int state : 3;    /* bitfield, placed differently in the target */
    int inner_value;           /* target: inside an anonymous union */
    int matrix[2][2];          /* target: 3 x 3 */
    int gone;                  /* target: absent */
    struct files_struct *files;
    int tail[];                /* flexible: may be indexed past its (zero) length */
} __core;

/* No preserve_access_index: only the access wrapped in the builtin is relocated. */
struct plain { int a; int b; };

/* An older kernel's layout, read through a flavor of the same name. */
struct task_struct___old {
    int pid;
    int old_field;             /* absent everywhere */
} __core;

struct matched_type { int a; long b; struct cred *c; } __core;
struct mismatched_type { int a; } __core;      /* target: `long a` */
struct only_local { int x; } __core;           /* target: absent */
struct sized { char data[24]; } __core;        /* target: 40 bytes */

enum task_state { TASK_RUNNING = 0, TASK_ASLEEP = 1, TASK_GONE = 2 };
enum big_values { BIG_VALUE = 0x123456789ULL, BIG_GONE = 0x987654321ULL };
enum grown { GROWN_VALUE = 1 };                /* target: an enum64 */

unsigned long long sink[64];

SEC("fentry/fields") int fields(struct task_struct *task) {
    sink[0] = task->pid;                          /* LDX W, moved */
    sink[1] = task->flags;                        /* LDX W -> DW */
    sink[2] = task->prio;                         /* LDX W, poisoned: signed resize */
    sink[3] = task->cred->uid;                    /* two loads */
    sink[4] = task->comm[3];                      /* array element */
    sink[5] = task->inner_value;                  /* through an anonymous union */
    sink[6] = task->matrix[1][1];                 /* array of arrays */
    sink[7] = task->gone;                         /* missing: poisoned */
    task->tgid = 7;                               /* ST imm */
    task->pid = (int)sink[8];                     /* STX */
    sink[9] = (unsigned long long)&task->comm[2]; /* address: ALU add */
    sink[10] = ((struct task_struct___old *)task)->pid; /* flavor */
    sink[42] = task->files->count;                /* target struct only declared */
    sink[43] = task->tail[5];                     /* flexible array element */
    sink[44] = *(int *)__builtin_preserve_access_index(&((struct plain *)task->files)->b);
    return 0;
}

SEC("fentry/facts") int facts(struct task_struct *task) {
    sink[11] = bpf_core_field_offset(task->state);
    sink[12] = bpf_core_field_size(task->state);
    sink[13] = bpf_core_field_exists(task->state);
    sink[14] = bpf_core_field_signed(task->state);
    sink[15] = bpf_core_field_lshift(task->state);
    sink[16] = bpf_core_field_rshift(task->state);
    sink[17] = bpf_core_field_offset(task->comm);
    sink[18] = bpf_core_field_size(task->comm);
    sink[19] = bpf_core_field_signed(task->prio);
    sink[20] = bpf_core_field_exists(task->gone);
    sink[21] = bpf_core_field_offset(task->gone);
    sink[22] = bpf_core_field_exists(((struct task_struct___old *)task)->old_field);
    sink[23] = bpf_core_read_bitfield(task, state);
    return 0;
}

SEC("fentry/types") int types(struct task_struct *task) {
    sink[24] = bpf_core_type_id_local(struct task_struct);
    sink[25] = bpf_core_type_id_kernel(struct task_struct);
    sink[26] = bpf_core_type_exists(struct task_struct);
    sink[27] = bpf_core_type_size(struct task_struct);
    sink[28] = bpf_core_type_matches(struct matched_type);
    sink[29] = bpf_core_type_matches(struct mismatched_type);
    sink[30] = bpf_core_type_exists(struct mismatched_type);
    sink[31] = bpf_core_type_exists(struct only_local);
    sink[32] = bpf_core_type_size(struct only_local);
    sink[33] = bpf_core_type_id_kernel(struct only_local);
    sink[34] = bpf_core_type_size(struct sized);
    sink[35] = bpf_core_type_exists(pid_t);
    return 0;
}

SEC("fentry/enums") int enums(struct task_struct *task) {
    sink[36] = bpf_core_enum_value_exists(enum task_state, TASK_ASLEEP);
    sink[37] = bpf_core_enum_value(enum task_state, TASK_ASLEEP);
    sink[38] = bpf_core_enum_value_exists(enum task_state, TASK_GONE);
    sink[39] = bpf_core_enum_value(enum task_state, TASK_GONE);
    sink[40] = bpf_core_enum_value(enum big_values, BIG_VALUE);
    sink[41] = bpf_core_enum_value(enum big_values, BIG_GONE);
    sink[45] = bpf_core_enum_value(enum grown, GROWN_VALUE);
    return 0;
}

char LICENSE[] SEC("license") = "GPL";
