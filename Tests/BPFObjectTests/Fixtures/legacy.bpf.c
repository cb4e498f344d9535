// Object-file fixture: the legacy `maps` section (struct bpf_map_def, one per symbol) with
// a BPF_ANNOTATE_KV_PAIR type annotation, a kernel `version` section and no .maps.
// ObjectMapTests checks the definitions, and that the references resolve to them.
#include "swiftbpf_helpers.h"

struct bpf_map_def SEC("maps") packets = {
    .type = BPF_MAP_TYPE_ARRAY, .key_size = sizeof(__u32), .value_size = sizeof(__u64), .max_entries = 256,
};
struct bpf_map_def SEC("maps") sockets = {
    .type = BPF_MAP_TYPE_HASH, .key_size = 8, .value_size = 16, .max_entries = 1024, .map_flags = BPF_F_NO_PREALLOC,
};

struct ____btf_map_sockets { __u64 key; struct { __u64 a, b; } value; };
struct ____btf_map_sockets __btf_map_sockets SEC(".maps.info") = {};

SEC("socket") int count(struct __sk_buff *skb) {
    __u32 key = skb->protocol;
    __u64 *value = bpf_map_lookup_elem(&packets, &key);
    if (value) __sync_fetch_and_add(value, 1);
    __u64 cookie = skb->mark;
    bpf_map_lookup_elem(&sockets, &cookie);
    return 0;
}

char LICENSE[] SEC("license") = "GPL";
__u32 VERSION SEC("version") = 0x050a00;
