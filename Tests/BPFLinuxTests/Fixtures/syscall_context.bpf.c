// A syscall program for context-only test runs: reads its argument struct, writes a
// result back into it, and returns a known value.
#include "map_program_helpers.h"

struct arguments {
    __u64 input;
    __u64 output;
};

SEC("syscall")
int double_it(struct arguments *args) {
    args->output = args->input * 2;
    return 42;
}

char LICENSE[] SEC("license") = "GPL";
