// A program the verifier must refuse: it writes through a map lookup's result without
// checking it for NULL. The tests expect the error to point at that line.
#include "map_program_helpers.h"

struct {
    __uint(type, BPF_MAP_TYPE_HASH);   /* an array with a constant key would be known non-NULL */
    __uint(max_entries, 1);
    __type(key, __u32);
    __type(value, __u64);
} counters SEC(".maps");

SEC("socket")
int unchecked(struct __sk_buff *skb) {
    __u32 key = 0;
    __u64 *value = bpf_map_lookup_elem(&counters, &key);
    *value += skb->len; /* no NULL check */
    return 0;
}

char LICENSE[] SEC("license") = "GPL";
