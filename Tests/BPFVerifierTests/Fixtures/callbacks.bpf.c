// Programs with callbacks (bpf_loop, bpf_for_each_map_elem), right and wrong, for the
// verifier-agreement corpus: the kernel and SwiftBPF must give each the same verdict.
// The refused ones: a callback returning 2, one returning a number it does not bound, one
// reading past its 4-byte key, one writing its read-only key, and callers
// using a count their callback changed as an offset past the memory. bpf_loop with non-zero flags
// is accepted by both (the helper refuses them when it runs, with -EINVAL).
#include <linux/types.h>
#include <linux/bpf.h>

#define SEC(name) __attribute__((section(name), used))
#define __uint(name, value) int (*name)[value]
#define __type(name, value) typeof(value) *name

static void *(*bpf_map_lookup_elem)(void *map, const void *key) = (void *)1;
static long (*bpf_loop)(__u32 nr_loops, void *callback_fn, void *callback_ctx, __u64 flags) = (void *)181;
static long (*bpf_for_each_map_elem)(void *map, void *callback_fn, void *callback_ctx, __u64 flags) = (void *)164;

struct {
    __uint(type, BPF_MAP_TYPE_ARRAY);
    __uint(max_entries, 8);
    __type(key, __u32);
    __type(value, __u64);
} slots SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_HASH);
    __uint(max_entries, 8);
    __type(key, __u32);
    __type(value, __u64);
} table SEC(".maps");

struct sum { __u64 total; __u64 visits; };

static long add_index(__u32 index, void *data) {
    struct sum *s = data;
    s->total += index;
    s->visits += 1;
    return s->total > 1000;
}

static long bump_slot(__u32 index, void *data) {
    __u32 key = index & 7;
    __u64 *value = bpf_map_lookup_elem(&slots, &key);
    if (!value)
        return 1;
    *value += 1;
    return 0;
}

static long nothing(__u32 index, void *data) { return 0; }

static long add_value(void *map, __u32 *key, __u64 *value, struct sum *s) {
    s->total += *value + *key;
    s->visits += 1;
    return 0;
}

static long returns_two(__u32 index, void *data) { return 2; }

static long returns_index(__u32 index, void *data) { return index; }

static long reads_past_key(void *map, __u32 *key, __u64 *value, void *data) {
    return *(volatile __u64 *)key & 1;
}

static long bump(__u32 index, void *data) {
    *(__u64 *)data += 1;
    return 0;
}

static long writes_key(void *map, __u32 *key, __u64 *value, void *data) {
    *key = 0;
    return 0;
}

SEC("xdp") int loop_sum(struct xdp_md *ctx) {
    struct sum s = {0, 0};
    bpf_loop(16, add_index, &s, 0);
    return s.visits > 8 ? XDP_PASS : XDP_DROP;
}

SEC("xdp") int loop_map(struct xdp_md *ctx) {
    long runs = bpf_loop(32, bump_slot, 0, 0);
    return runs == 32 ? XDP_PASS : XDP_DROP;
}

SEC("socket") int loop_nested_count(struct __sk_buff *skb) {
    long runs = bpf_loop(skb->len, nothing, 0, 0);
    return runs > 0 ? 0 : 1;
}

SEC("xdp") int each_array(struct xdp_md *ctx) {
    struct sum s = {0, 0};
    bpf_for_each_map_elem(&slots, add_value, &s, 0);
    return s.total & 1 ? XDP_PASS : XDP_DROP;
}

SEC("xdp") int each_hash(struct xdp_md *ctx) {
    struct sum s = {0, 0};
    long visited = bpf_for_each_map_elem(&table, add_value, &s, 0);
    return visited == (long)s.visits ? XDP_PASS : XDP_DROP;
}

SEC("xdp") int loop_flags(struct xdp_md *ctx) {
    struct sum s = {0, 0};
    return bpf_loop(4, add_index, &s, 1) < 0 ? XDP_DROP : XDP_PASS;
}

SEC("xdp") int loop_returns_two(struct xdp_md *ctx) {
    bpf_loop(4, returns_two, 0, 0);
    return XDP_PASS;
}

SEC("xdp") int loop_returns_index(struct xdp_md *ctx) {
    bpf_loop(4, returns_index, 0, 0);
    return XDP_PASS;
}

SEC("xdp") int each_reads_past_key(struct xdp_md *ctx) {
    bpf_for_each_map_elem(&slots, reads_past_key, 0, 0);
    return XDP_PASS;
}

SEC("xdp") int each_writes_key(struct xdp_md *ctx) {
    bpf_for_each_map_elem(&table, writes_key, 0, 0);
    return XDP_PASS;
}

// The count the callback bumps after bpf_loop: at most the loop's count when that is a
// constant (4 runs keep value[n] inside the 8-byte value, 8 runs do not); unknown otherwise.
static __always_inline int read_at_count(__u64 n) {
    __u32 key = 0;
    __u8 *value = bpf_map_lookup_elem(&slots, &key);
    if (!value)
        return XDP_DROP;
    return value[n] ? XDP_PASS : XDP_DROP;
}

SEC("xdp") int loop_count_bounded(struct xdp_md *ctx) {
    __u64 n = 0;
    bpf_loop(4, bump, &n, 0);
    return read_at_count(n);
}

SEC("xdp") int loop_count_past_value(struct xdp_md *ctx) {
    __u64 n = 0;
    bpf_loop(8, bump, &n, 0);
    return read_at_count(n);
}

SEC("xdp") int loop_count_unknown(struct xdp_md *ctx) {
    __u64 n = 0;
    bpf_loop(ctx->ingress_ifindex, bump, &n, 0);
    return read_at_count(n);
}

char _license[] SEC("license") = "GPL";
