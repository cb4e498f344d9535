// Object-file fixture: every way of declaring a BTF-defined map in `.maps` — key and value
// by type or by size, flags, pinning, NUMA node, map_extra, ring buffer, program array and
// map-in-maps with `.values` initialisers — and programs that use them. ObjectMapTests
// checks each map's spec against the numbers written here.
#include "swiftbpf_helpers.h"

struct flow { __u32 saddr, daddr; __u16 sport, dport; __u8 proto; };
struct stats { __u64 packets, bytes; };

struct {
    __uint(type, BPF_MAP_TYPE_HASH);
    __uint(max_entries, 1024);
    __type(key, struct flow);
    __type(value, struct stats);
} flows SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_ARRAY);
    __uint(key_size, sizeof(__u32));
    __uint(value_size, 24);
    __uint(max_entries, 8);
} sized SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_LRU_PERCPU_HASH);
    __uint(max_entries, 4096);
    __uint(map_flags, BPF_F_NO_COMMON_LRU);
    __type(key, __u64);
    __type(value, __u64);
    __uint(pinning, LIBBPF_PIN_BY_NAME);
} pinned SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_HASH);
    __uint(max_entries, 16);
    __uint(map_flags, BPF_F_NO_PREALLOC | BPF_F_NUMA_NODE);
    __uint(numa_node, 1);
    __type(key, int);
    __uint(value_size, 8);
} numa SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_RINGBUF);
    __uint(max_entries, 256 * 1024);
} events SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_BLOOM_FILTER);
    __uint(max_entries, 100);
    __type(value, __u32);
    __ulong(map_extra, 3);
} bloom SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_PERF_EVENT_ARRAY);
    __uint(key_size, sizeof(int));
    __uint(value_size, sizeof(int));
} perf SEC(".maps");

typedef struct inner_array {
    __uint(type, BPF_MAP_TYPE_ARRAY);
    __uint(max_entries, 4);
    __type(key, __u32);
    __type(value, __u64);
} inner_array_t;

inner_array_t inner_a SEC(".maps"), inner_b SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS);
    __uint(max_entries, 3);
    __type(key, __u32);
    __array(values, inner_array_t);
} outer_array SEC(".maps") = {
    .values = { &inner_a, [2] = &inner_b },
};

struct {
    __uint(type, BPF_MAP_TYPE_HASH_OF_MAPS);
    __uint(max_entries, 2);
    __type(key, int);
    __array(values, struct {
        __uint(type, BPF_MAP_TYPE_HASH);
        __uint(max_entries, 64);
        __type(key, __u32);
        __type(value, __u32);
    });
} outer_hash SEC(".maps");

int tail_target(struct __sk_buff *skb);

struct {
    __uint(type, BPF_MAP_TYPE_PROG_ARRAY);
    __uint(max_entries, 4);
    __type(key, __u32);
    __array(values, int(struct __sk_buff *));
} jump_table SEC(".maps") = {
    .values = { [1] = &tail_target },
};

SEC("socket") int tail_target(struct __sk_buff *skb) { return 1; }

SEC("socket") int use_maps(struct __sk_buff *skb) {
    struct flow key = { .proto = 6 };
    struct stats *stats = bpf_map_lookup_elem(&flows, &key);
    if (stats) stats->packets++;
    __u32 index = 1;
    void *inner = bpf_map_lookup_elem(&outer_array, &index);
    if (inner) bpf_map_lookup_elem(inner, &index);
    bpf_map_lookup_elem(&outer_hash, &index);
    bpf_map_lookup_elem(&sized, &index);
    __u64 pid = bpf_get_current_pid_tgid();
    bpf_map_update_elem(&pinned, &pid, &pid, 0);
    bpf_map_lookup_elem(&numa, &index);
    bpf_ringbuf_output(&events, &pid, sizeof(pid), 0);
    bpf_map_update_elem(&bloom, 0, &index, 0);
    bpf_tail_call(skb, &jump_table, 1);
    return 0;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
