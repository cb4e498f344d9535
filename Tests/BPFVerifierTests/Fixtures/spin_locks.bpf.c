// Programs with spin locks in map values, right and wrong, for the verifier-agreement corpus:
// the kernel and SwiftBPF must give each the same verdict. Accepted: a value updated under
// its lock. The kernel's verdict decides a lock taken in a function and given back by its
// caller. Refused: a path that ends with the lock held, a helper called under the lock, a second lock, an
// unlock without a lock, an unlock of another value's lock, a lock at the wrong offset, a
// direct read of the lock, and a map with a lock used by a socket filter or a kprobe.
#include <linux/types.h>
#include <linux/bpf.h>

#define SEC(name) __attribute__((section(name), used))
#define __uint(name, value) int (*name)[value]
#define __type(name, value) typeof(value) *name

static void *(*bpf_map_lookup_elem)(void *map, const void *key) = (void *)1;
static __u64 (*bpf_ktime_get_ns)(void) = (void *)5;
static void (*bpf_spin_lock)(struct bpf_spin_lock *lock) = (void *)93;
static void (*bpf_spin_unlock)(struct bpf_spin_lock *lock) = (void *)94;

struct counter {
    __u64 count;
    struct bpf_spin_lock lock;
    __u32 last;
};

struct {
    __uint(type, BPF_MAP_TYPE_HASH);
    __uint(max_entries, 8);
    __type(key, __u32);
    __type(value, struct counter);
} counters SEC(".maps");

static struct counter *find(struct __sk_buff *skb, __u32 key) {
    (void)skb;
    return bpf_map_lookup_elem(&counters, &key);
}

SEC("tc") int locked_update(struct __sk_buff *skb) {
    struct counter *c = find(skb, skb->mark);
    if (!c) return 0;
    bpf_spin_lock(&c->lock);
    c->count += 1;
    c->last = skb->len;
    bpf_spin_unlock(&c->lock);
    return 0;
}

SEC("tc") int lock_kept_on_a_path(struct __sk_buff *skb) {
    struct counter *c = find(skb, 0);
    if (!c) return 0;
    bpf_spin_lock(&c->lock);
    c->count += 1;
    if (skb->len > 100) return 1;
    bpf_spin_unlock(&c->lock);
    return 0;
}

SEC("tc") int helper_under_lock(struct __sk_buff *skb) {
    struct counter *c = find(skb, 0);
    if (!c) return 0;
    bpf_spin_lock(&c->lock);
    c->count = bpf_ktime_get_ns();
    bpf_spin_unlock(&c->lock);
    return 0;
}

SEC("tc") int two_locks(struct __sk_buff *skb) {
    struct counter *a = find(skb, 0);
    struct counter *b = find(skb, 1);
    if (!a || !b) return 0;
    bpf_spin_lock(&a->lock);
    bpf_spin_lock(&b->lock);
    bpf_spin_unlock(&b->lock);
    bpf_spin_unlock(&a->lock);
    return 0;
}

SEC("tc") int unlock_without_lock(struct __sk_buff *skb) {
    struct counter *c = find(skb, 0);
    if (!c) return 0;
    bpf_spin_unlock(&c->lock);
    return 0;
}

SEC("tc") int unlock_of_another_value(struct __sk_buff *skb) {
    struct counter *a = find(skb, 0);
    struct counter *b = find(skb, 1);
    if (!a || !b) return 0;
    bpf_spin_lock(&a->lock);
    a->count += 1;
    bpf_spin_unlock(&b->lock);
    return 0;
}

SEC("tc") int lock_at_wrong_offset(struct __sk_buff *skb) {
    struct counter *c = find(skb, 0);
    if (!c) return 0;
    bpf_spin_lock((struct bpf_spin_lock *)&c->last);
    bpf_spin_unlock((struct bpf_spin_lock *)&c->last);
    return 0;
}

SEC("tc") int lock_read_directly(struct __sk_buff *skb) {
    struct counter *c = find(skb, 0);
    if (!c) return 0;
    return *(volatile __u32 *)&c->lock;
}

SEC("socket") int lock_in_socket_filter(struct __sk_buff *skb) {
    struct counter *c = find(skb, 0);
    if (!c) return 0;
    bpf_spin_lock(&c->lock);
    c->count += 1;
    bpf_spin_unlock(&c->lock);
    return 0;
}

SEC("kprobe/do_nanosleep") int lock_in_kprobe(void *ctx) {
    __u32 key = 0;
    struct counter *c = bpf_map_lookup_elem(&counters, &key);
    if (!c) return 0;
    bpf_spin_lock(&c->lock);
    c->count += 1;
    bpf_spin_unlock(&c->lock);
    return 0;
}

static __attribute__((noinline)) int take(struct counter *c) {
    bpf_spin_lock(&c->lock);
    return 0;
}

SEC("tc") int lock_taken_in_a_function(struct __sk_buff *skb) {
    struct counter *c = find(skb, 0);
    if (!c) return 0;
    take(c);
    c->count += 1;
    bpf_spin_unlock(&c->lock);
    return 0;
}

char _license[] SEC("license") = "GPL";
