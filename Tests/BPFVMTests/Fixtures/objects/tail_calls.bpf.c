// bpf_tail_call through a program array whose `.values` name the programs: `first` jumps
// past an empty slot to `second`, which drops the packet; `loop` jumps to itself until the
// kernel's limit of 33 tail calls stops it. The runs of each are counted in .bss.
#include "vm_object.h"

#define __array(name, value) typeof(value) *name[]

__u32 first_runs = 0, second_runs = 0, loop_runs = 0;

SEC("xdp")
int second(struct xdp_md *ctx) {
    second_runs++;
    return XDP_DROP;
}

SEC("xdp")
int loop(struct xdp_md *ctx);

struct {
    __uint(type, BPF_MAP_TYPE_PROG_ARRAY);
    __uint(max_entries, 4);
    __uint(key_size, sizeof(__u32));
    __array(values, int (void *));
} jumps SEC(".maps") = {
    .values = { [1] = (void *)&second, [2] = (void *)&loop },
};

SEC("xdp")
int loop(struct xdp_md *ctx) {
    loop_runs++;
    bpf_tail_call(ctx, &jumps, 2);
    return XDP_TX;
}

SEC("xdp")
int first(struct xdp_md *ctx) {
    first_runs++;
    bpf_tail_call(ctx, &jumps, 0);      // empty: the program goes on
    bpf_tail_call(ctx, &jumps, 1);
    return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
