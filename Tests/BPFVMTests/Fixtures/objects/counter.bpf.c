// Maps and globals of a loaded object: counts packets by EtherType in a hash map and in
// .bss, returns the verdict user space sets in .rodata, and swaps the Ethernet addresses
// when .data's `swap` is set. The object tests read every map and global back.
#include "vm_object.h"

struct {
    __uint(type, BPF_MAP_TYPE_HASH);
    __uint(max_entries, 16);
    __type(key, __u16);
    __type(value, __u64);
} by_ethertype SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_ARRAY);
    __uint(max_entries, 4);
    __type(key, __u32);
    __type(value, __u64);
} bytes_seen SEC(".maps");

const volatile __u32 verdict = XDP_PASS;
__u64 packets = 0;
__u32 swap = 0;

SEC("xdp")
int count(struct xdp_md *ctx) {
    unsigned char *data = (unsigned char *)(long)ctx->data;
    unsigned char *end = (unsigned char *)(long)ctx->data_end;
    if (data + 14 > end)
        return XDP_ABORTED;
    __u16 type = (__u16)(data[12] << 8 | data[13]);
    __u64 one = 1;
    __u64 *count = bpf_map_lookup_elem(&by_ethertype, &type);
    if (count)
        __sync_fetch_and_add(count, 1);
    else
        bpf_map_update_elem(&by_ethertype, &type, &one, BPF_NOEXIST);
    __u32 slot = 0;
    __u64 *bytes = bpf_map_lookup_elem(&bytes_seen, &slot);
    if (bytes)
        *bytes += end - data;
    packets++;
    if (swap) {
        for (int i = 0; i < 6; i++) {
            unsigned char byte = data[i];
            data[i] = data[i + 6];
            data[i + 6] = byte;
        }
    }
    return verdict;
}

// Deletes the EtherType's entry: the map after a run of this is the map before, less one key.
SEC("xdp")
int forget(struct xdp_md *ctx) {
    unsigned char *data = (unsigned char *)(long)ctx->data;
    unsigned char *end = (unsigned char *)(long)ctx->data_end;
    if (data + 14 > end)
        return XDP_ABORTED;
    __u16 type = (__u16)(data[12] << 8 | data[13]);
    return bpf_map_delete_elem(&by_ethertype, &type) == 0 ? XDP_PASS : XDP_DROP;
}

char LICENSE[] SEC("license") = "GPL";
