// Lookups the JIT runs without the helper path (MapLookupDescriptor): an array and a per-CPU
// array looked up inline at the index user space sets in .data (in range or past the end),
// and a hash through its own lookup function. A hit adds the packet's length to the value, a
// miss adds to `misses` (1 for the array, 100 for the per-CPU array, 10000 for the hash), so
// the tests can compare the JIT with the interpreter and with the expected figures.
#include "vm_object.h"

struct {
    __uint(type, BPF_MAP_TYPE_ARRAY);
    __uint(max_entries, 4);
    __type(key, __u32);
    __type(value, __u64);
} slots SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
    __uint(max_entries, 4);
    __type(key, __u32);
    __type(value, __u64);
} per_cpu_slots SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_HASH);
    __uint(max_entries, 8);
    __type(key, __u32);
    __type(value, __u64);
} table SEC(".maps");

__u32 lookup_index = 0;
__u64 misses = 0;

SEC("xdp")
int lookups(struct xdp_md *ctx) {
    __u64 length = ctx->data_end - ctx->data;
    __u32 key = lookup_index;
    __u64 *value = bpf_map_lookup_elem(&slots, &key);
    if (value)
        *value += length;
    else
        misses += 1;
    value = bpf_map_lookup_elem(&per_cpu_slots, &key);
    if (value)
        *value += length;
    else
        misses += 100;
    value = bpf_map_lookup_elem(&table, &key);
    if (value)
        *value += length;
    else
        misses += 10000;
    return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
