// Maps whose keys and values have BTF, for `swiftbpf map dump` formatted from it and
// compared with bpftool's: a struct of ints of every size, signed and unsigned, a bool, a
// char string, an int array, an enum, a nested struct, a union and bitfields; an array of
// enums; a per-CPU array of a small struct; a hash keyed by a struct; global data (.data,
// .rodata with a string, .bss), whose values are data sections. Nothing runs: the maps are
// filled from Swift. The program calls a subprogram, for the JIT's function list.
#include "map_program_helpers.h"

enum color { RED = 0, GREEN = 1, BLUE = 7 };

struct point {
    __s16 x;
    __s16 y;
};

struct record {
    __u8 u8;
    __s8 s8;
    __u16 u16;
    __s16 s16;
    __u32 u32;
    __s32 s32;
    __u64 u64;
    __s64 s64;
    _Bool flag;
    char label[7];
    __u32 counts[3];
    enum color color;
    struct point where;
    union { __u32 word; __u8 bytes[4]; } either;
    unsigned int low : 3;
    int middle : 5;
    unsigned int high : 24;
};

struct pair {
    __u32 packets;
    __u16 port;
};

struct {
    __uint(type, BPF_MAP_TYPE_HASH);
    __uint(max_entries, 8);
    __type(key, __u32);
    __type(value, struct record);
} records SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_ARRAY);
    __uint(max_entries, 3);
    __type(key, __u32);
    __type(value, enum color);
} colors SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
    __uint(max_entries, 2);
    __type(key, __u32);
    __type(value, struct pair);
} per_cpu SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_HASH);
    __uint(max_entries, 4);
    __type(key, struct point);
    __type(value, __u64);
} by_point SEC(".maps");

__u64 touched = 3;
const volatile char greeting[6] = "hi";
__s32 last_verdict;

// A subprogram of its own, so that the JIT makes two functions (for `prog dump --jited`).
static __attribute__((noinline)) int verdict_for(int seen) {
    return seen ? XDP_PASS : XDP_DROP;
}

// Uses every map so that a loaded program holds them.
SEC("xdp") int touch(struct xdp_md *ctx) {
    __u32 key = 0;
    struct point where = {0, 0};
    touched++;
    last_verdict = greeting[0];
    return verdict_for(bpf_map_lookup_elem(&records, &key) && bpf_map_lookup_elem(&colors, &key)
        && bpf_map_lookup_elem(&per_cpu, &key) && bpf_map_lookup_elem(&by_point, &where));
}

char LICENSE[] SEC("license") = "GPL";
