// XDP: counters updated under bpf_spin_lock in an array and in a hash map, keyed by the
// packet's bytes; every packet passes.
// Checks: bpf_spin_lock/bpf_spin_unlock on the lock inside a map value (at offset 8, not 0);
// a hash element inserted by the program then locked; whole-value writes by the program
// with BPF_F_LOCK (in place, under the lock) and without (the kernel links a new element);
// with spin_locks.maps, host writes whose lock bytes are set, which the kernel does not copy
// (copy_map_value) and host reads, which see the lock word as zero.
#include "runtime_fixture.h"

#define SLOTS 4

static long (*bpf_spin_lock)(struct bpf_spin_lock *lock) = (void *)93;
static long (*bpf_spin_unlock)(struct bpf_spin_lock *lock) = (void *)94;

struct counter {
    __u64 packets;
    struct bpf_spin_lock lock;
    __u32 last;
    __u64 bytes;
};

struct {
    __uint(type, BPF_MAP_TYPE_ARRAY);
    __uint(max_entries, SLOTS);
    __type(key, __u32);
    __type(value, struct counter);
} locked_array SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_HASH);
    __uint(max_entries, 16);
    __type(key, __u32);
    __type(value, struct counter);
} locked_hash SEC(".maps");

static __always_inline void count(struct counter *counter, __u8 *bytes)
{
    bpf_spin_lock(&counter->lock);
    // Read early and written back last, so that without the lock concurrent runs lose counts.
    __u64 seen = counter->packets;
    barrier_var(seen);
    counter->bytes += bytes[16];
    counter->last = bytes[17];
    counter->packets = seen + 1;
    bpf_spin_unlock(&counter->lock);
}

SEC("xdp")
int spin_locks(struct xdp_md *ctx)
{
    void *data = (void *)(long)ctx->data;
    void *data_end = (void *)(long)ctx->data_end;
    __u8 *bytes = data;
    if ((void *)(bytes + 20) > data_end)
        return XDP_PASS;

    __u32 slot = bytes[14] % SLOTS;
    struct counter *counter = bpf_map_lookup_elem(&locked_array, &slot);
    if (counter)
        count(counter, bytes);

    __u32 key = bytes[15] % 6;
    counter = bpf_map_lookup_elem(&locked_hash, &key);
    if (!counter) {
        struct counter fresh = { .last = 0xffff };
        bpf_map_update_elem(&locked_hash, &key, &fresh, BPF_NOEXIST);
        counter = bpf_map_lookup_elem(&locked_hash, &key);
    }
    if (counter)
        count(counter, bytes);

    // Keys 6 and 7 rewritten whole, under the lock or by a new element.
    __u32 rewritten = 6 + bytes[18] % 2;
    struct counter value = { .packets = bytes[18], .last = bytes[19], .bytes = bytes[17] };
    bpf_map_update_elem(&locked_hash, &rewritten, &value, bytes[19] & 1 ? BPF_F_LOCK : BPF_ANY);
    return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
