// An LRU hash whose value holds a bpf_spin_lock: the kernel refuses to make such a map
// (map_check_btf: EOPNOTSUPP; spin locks go in hash and array maps), and so must the VM.
#include "vm_object.h"

struct locked {
    struct bpf_spin_lock lock;
    __u64 count;
};

struct {
    __uint(type, BPF_MAP_TYPE_LRU_HASH);
    __uint(max_entries, 4);
    __type(key, __u32);
    __type(value, struct locked);
} recent SEC(".maps");

SEC("xdp")
int lru_spin_lock(struct xdp_md *ctx) {
    __u32 key = 0;
    struct locked *value = bpf_map_lookup_elem(&recent, &key);
    if (value)
        value->count++;
    return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
