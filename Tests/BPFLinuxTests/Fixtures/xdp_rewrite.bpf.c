// XDP program for the load and test-run tests: swaps the Ethernet addresses, counts
// packets in .bss and in a hash map keyed by EtherType, and returns a constant that user
// space sets in .rodata before loading (XDP_PASS unless changed).
#include "map_program_helpers.h"

struct {
    __uint(type, BPF_MAP_TYPE_HASH);
    __uint(max_entries, 16);
    __type(key, __u16);
    __type(value, __u64);
} by_ethertype SEC(".maps");

const volatile __u32 verdict = XDP_PASS;
__u64 packets = 0;
__u64 marker = 0x1122334455667788;

SEC("xdp")
int rewrite(struct xdp_md *ctx) {
    unsigned char *data = (unsigned char *)(long)ctx->data;
    unsigned char *end = (unsigned char *)(long)ctx->data_end;
    if (data + 14 > end)
        return XDP_DROP;
    for (int i = 0; i < 6; i++) {
        unsigned char byte = data[i];
        data[i] = data[i + 6];
        data[i + 6] = byte;
    }
    __u16 type = (__u16)(data[12] << 8 | data[13]);
    __u64 one = 1;
    __u64 *count = bpf_map_lookup_elem(&by_ethertype, &type);
    if (count)
        __sync_fetch_and_add(count, 1);
    else
        bpf_map_update_elem(&by_ethertype, &type, &one, BPF_NOEXIST);
    __sync_fetch_and_add(&packets, 1);
    marker += 1;
    return verdict;
}

char LICENSE[] SEC("license") = "GPL";
