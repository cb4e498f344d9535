// Maps declared in C for creation from their specs: a hash of maps with its inner map
// template, a value with a spin lock (for BPF_F_LOCK, which needs BTF), an LPM trie, and
// a program that uses them so that the object loads.
#include "map_program_helpers.h"

struct inner {
    __uint(type, BPF_MAP_TYPE_ARRAY);
    __uint(max_entries, 4);
    __type(key, __u32);
    __type(value, __u32);
};

struct {
    __uint(type, BPF_MAP_TYPE_HASH_OF_MAPS);
    __uint(max_entries, 8);
    __type(key, __u32);
    __array(values, struct inner);
} outer SEC(".maps");

struct locked_value {
    struct bpf_spin_lock lock;
    __u32 count;
};

struct {
    __uint(type, BPF_MAP_TYPE_HASH);
    __uint(max_entries, 8);
    __type(key, __u32);
    __type(value, struct locked_value);
} locked SEC(".maps");

struct ipv4_prefix {
    __u32 prefix_length;
    __u8 address[4];
};

struct {
    __uint(type, BPF_MAP_TYPE_LPM_TRIE);
    __uint(max_entries, 16);
    __uint(map_flags, BPF_F_NO_PREALLOC);
    __type(key, struct ipv4_prefix);
    __type(value, __u32);
} routes SEC(".maps");

SEC("socket")
int use_maps(struct __sk_buff *skb) {
    __u32 key = 1;
    struct locked_value *value = bpf_map_lookup_elem(&locked, &key);
    if (value) {
        bpf_spin_lock(&value->lock);
        value->count += 1;
        bpf_spin_unlock(&value->lock);
    }
    void *inner = bpf_map_lookup_elem(&outer, &key);
    if (inner) {
        __u32 *slot = bpf_map_lookup_elem(inner, &key);
        if (slot)
            *slot += 1;
    }
    struct ipv4_prefix lookup = { 32, { 10, 1, 2, 3 } };
    __u32 *route = bpf_map_lookup_elem(&routes, &lookup);
    return route ? *route : 0;
}

char LICENSE[] SEC("license") = "GPL";
