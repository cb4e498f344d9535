// Tracing hooks, each counting what the test process does: openat calls (tracepoint, slot
// 0), getppid calls (raw tracepoint sys_enter, slot 1), calls of a test binary's function
// (uprobe: calls in slot 2, sum of first arguments in slot 3), its last return value
// (uretprobe, slot 4), and perf samples taken while it runs (slot 5).
#include "attach_helpers.h"

SEC("tracepoint/syscalls/sys_enter_openat")
int count_openat(void *context) {
    if (is_target()) count(0, 1);
    return 0;
}

SEC("raw_tracepoint/sys_enter")
int count_getppid(struct bpf_raw_tracepoint_args *context) {
    // args[1] is the system call number; 110 is getppid on x86-64.
    if (context->args[1] == 110 && is_target()) count(1, 1);
    return 0;
}

SEC("uprobe")
int count_calls(struct x86_registers *registers) {
    if (!is_target()) return 0;
    count(2, 1);
    count(3, registers->di);
    return 0;
}

SEC("uretprobe")
int last_return(struct x86_registers *registers) {
    if (is_target()) store(4, registers->ax);
    return 0;
}

SEC("perf_event")
int count_samples(void *context) {
    if (is_target()) count(5, 1);
    return 0;
}

// A second tracepoint program, for replacing count_openat in a link (counts in slot 6).
SEC("tracepoint/syscalls/sys_enter_openat")
int count_openat_again(void *context) {
    if (is_target()) count(6, 1);
    return 0;
}
