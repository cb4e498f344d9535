// CO-RE fixture: the "kernel" that Fixtures/core-kinds.bpf.c is relocated against, as
// BTF (clang -g); CORERelocatorTests reads offsets off this layout. Compared with the
// program's view: task_struct's fields moved, `flags` is 64-bit, `prio` is a signed
// long, `inner_value` sits in an anonymous union, `comm` and `matrix` grew, the `state`
// bitfield moved and `gone` is absent; task_state's values changed and TASK_GONE is
// absent; big_values holds a different 64-bit value and no BIG_GONE; grown became an
// enum64; plain's b moved. files_struct is only pointed to, so clang describes it as a
// forward declaration, which is no candidate for the program's struct.
typedef int pid_t;

struct cred {
    unsigned long usage;
    unsigned int uid;           /* 8 */
};

struct task_struct {
    unsigned long long flags;   /* 0, 8 bytes */
    union {
        int inner_value;        /* 8 */
        long inner_long;
    };
    int tgid;                   /* 16 */
    int pid;                    /* 20 */
    long prio;                  /* 24 */
    char comm[32];              /* 32 */
    struct cred *cred;          /* 64 */
    unsigned int pad : 5;       /* bits 576..580 */
    unsigned int state : 7;     /* bits 581..587 */
    int matrix[3][3];           /* 76 */
    struct files_struct *files; /* 112 */
    int tail[];                 /* 120 */
};

struct plain { long first; int b; };    /* b at 8 */

struct matched_type { int a; long b; struct cred *c; };
struct mismatched_type { long a; };
struct sized { char data[40]; };

enum task_state { TASK_ASLEEP = 5, TASK_RUNNING = 0 };
enum big_values { BIG_VALUE = 0x1122334455ULL, BIG_OTHER = 1 };
enum grown { GROWN_VALUE = 0x100000000ULL };

/* Used, so that clang describes them. */
struct task_struct *current_task __attribute__((used));
struct cred cred_value __attribute__((used));
struct matched_type *matched __attribute__((used));
struct mismatched_type *mismatched __attribute__((used));
struct sized *sized_value __attribute__((used));
enum task_state state __attribute__((used));
enum big_values big __attribute__((used));
enum grown grown_value __attribute__((used));
struct plain plain_value __attribute__((used));
pid_t some_pid __attribute__((used));
