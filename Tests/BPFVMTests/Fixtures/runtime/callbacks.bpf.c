// XDP: the helpers that call the program back, bpf_loop and bpf_for_each_map_elem, driven by
// the packet's bytes (loop counts, where to stop, which keys to add) and leaving what they
// returned and what their callbacks saw in `results`; every packet passes.
// Checks: bpf_loop counting, stopping early and refusing bad flags and counts past 1<<23;
// callbacks that look up, update and insert map elements; a walk inside a loop's callback;
// for_each_map_elem over an array (values updated in place, stopping at a key), a per-CPU
// array, a hash and an LRU hash (zero-seeded, so that the kernel's bucket order is known),
// with elements deleted during the walk.
#include "runtime_fixture.h"

#define ENTRIES 8

struct {
    __uint(type, BPF_MAP_TYPE_ARRAY);
    __uint(max_entries, 24);
    __type(key, __u32);
    __type(value, __u64);
} results SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_ARRAY);
    __uint(max_entries, ENTRIES);
    __type(key, __u32);
    __type(value, __u64);
} slots SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
    __uint(max_entries, 4);
    __type(key, __u32);
    __type(value, __u64);
} per_cpu SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_HASH);
    __uint(max_entries, 32);
    __uint(map_flags, BPF_F_ZERO_SEED);
    __type(key, __u32);
    __type(value, __u64);
} table SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_LRU_HASH);
    __uint(max_entries, 64);
    __uint(map_flags, BPF_F_ZERO_SEED);
    __type(key, __u32);
    __type(value, __u64);
} recent SEC(".maps");

enum result {
    LOOP_RETURNED, LOOP_SUM, LOOP_STOPPED_AT, LOOP_BAD_FLAGS, LOOP_TOO_MANY, LOOP_ZERO,
    LOOP_MAP_CALLS, NESTED_SUM, ARRAY_VISITS, ARRAY_SUM, ARRAY_RETURNED, ARRAY_BAD_FLAGS,
    PER_CPU_SUM, HASH_VISITS, HASH_SUM, HASH_STOPPED, HASH_DELETED, LRU_VISITS, LRU_SUM,
    LRU_RETURNED,
};

static __always_inline void add(__u32 index, __u64 amount)
{
    __u64 *value = bpf_map_lookup_elem(&results, &index);
    if (value)
        *value += amount;
}

static __always_inline void set(__u32 index, __u64 amount)
{
    __u64 *value = bpf_map_lookup_elem(&results, &index);
    if (value)
        *value = amount;
}

struct loop_state {
    __u64 sum;
    __u32 stop_at;
    __u32 calls;
};

static long add_index(__u32 index, struct loop_state *state)
{
    state->sum += index * index + 1;
    state->calls++;
    return index == state->stop_at;
}

/// Counts in the array and in the hash (inserting a key the first time), from inside a loop.
static long count_in_maps(__u32 index, struct loop_state *state)
{
    __u32 slot = index % ENTRIES;
    __u64 *value = bpf_map_lookup_elem(&slots, &slot);
    if (value)
        *value += 1;
    __u32 key = index % 5 + 100;
    __u64 one = 1;
    __u64 *count = bpf_map_lookup_elem(&table, &key);
    if (count)
        *count += 1;
    else
        bpf_map_update_elem(&table, &key, &one, BPF_NOEXIST);
    state->calls++;
    return 0;
}

struct walk {
    __u64 visits;
    __u64 sum;
    __u32 stop_key;
    __u32 deleted;
};

/// Sums, then bumps the value in place; stops at `stop_key`.
static long sum_and_bump(void *map, __u32 *key, __u64 *value, struct walk *walk)
{
    walk->visits++;
    walk->sum += *value * (*key + 1);
    *value += *key + 1;
    return *key == walk->stop_key;
}

static long sum_only(void *map, __u32 *key, __u64 *value, struct walk *walk)
{
    walk->visits++;
    walk->sum += *value + *key;
    return 0;
}

static long sum_array_in_loop(__u32 index, struct walk *walk)
{
    bpf_for_each_map_elem(&slots, sum_only, walk, 0);
    return 0;
}

/// Deletes the elements with odd values as it meets them, and stops at `stop_key`.
static long sum_and_delete_odd(void *map, __u32 *key, __u64 *value, struct walk *walk)
{
    walk->visits++;
    walk->sum += *value * 3 + *key;
    __u32 copy = *key;
    if (*value & 1) {
        if (bpf_map_delete_elem(&table, &copy) == 0)
            walk->deleted++;
    } else {
        *value += 1;
    }
    return copy == walk->stop_key;
}

static long sum_lru(void *map, __u32 *key, __u64 *value, struct walk *walk)
{
    walk->visits++;
    walk->sum += *value ^ *key;
    *value += 2;
    return walk->visits == walk->stop_key;
}

SEC("xdp")
int callbacks(struct xdp_md *ctx)
{
    void *data = (void *)(long)ctx->data;
    void *data_end = (void *)(long)ctx->data_end;
    __u8 *bytes = data;
    if ((void *)(bytes + 24) > data_end)
        return XDP_PASS;

    struct loop_state state = { .stop_at = bytes[15] % 48 };
    long returned = bpf_loop(bytes[14] % 40, add_index, &state, 0);
    add(LOOP_RETURNED, returned);
    add(LOOP_SUM, state.sum);
    add(LOOP_STOPPED_AT, state.calls);
    set(LOOP_BAD_FLAGS, bpf_loop(4, add_index, &state, 1));
    set(LOOP_TOO_MANY, bpf_loop((1 << 23) + 1 + bytes[16] % 4, add_index, &state, 0));
    set(LOOP_ZERO, bpf_loop(0, add_index, &state, 0));

    struct loop_state counting = {};
    bpf_loop(bytes[17] % 12, count_in_maps, &counting, 0);
    add(LOOP_MAP_CALLS, counting.calls);

    struct walk nested = {};
    bpf_loop(bytes[18] % 3 + 1, sum_array_in_loop, &nested, 0);
    add(NESTED_SUM, nested.sum + nested.visits);

    struct walk array = { .stop_key = bytes[19] % 12 };
    returned = bpf_for_each_map_elem(&slots, sum_and_bump, &array, 0);
    add(ARRAY_VISITS, array.visits);
    add(ARRAY_SUM, array.sum);
    add(ARRAY_RETURNED, returned);
    set(ARRAY_BAD_FLAGS, bpf_for_each_map_elem(&slots, sum_and_bump, &array, 2));

    __u32 cpu_key = bytes[20] % 4;
    __u64 *cpu_value = bpf_map_lookup_elem(&per_cpu, &cpu_key);
    if (cpu_value)
        *cpu_value += bytes[21];
    struct walk per_cpu_walk = {};
    bpf_for_each_map_elem(&per_cpu, sum_only, &per_cpu_walk, 0);
    add(PER_CPU_SUM, per_cpu_walk.sum * 100 + per_cpu_walk.visits);

    __u32 key = bytes[22] % 40;
    __u64 start = bytes[23];
    bpf_map_update_elem(&table, &key, &start, BPF_NOEXIST);
    struct walk hash = { .stop_key = bytes[21] % 40 };
    returned = bpf_for_each_map_elem(&table, sum_and_delete_odd, &hash, 0);
    add(HASH_VISITS, hash.visits);
    add(HASH_SUM, hash.sum);
    add(HASH_STOPPED, returned);
    add(HASH_DELETED, hash.deleted);

    __u32 lru_key = (bytes[22] ^ bytes[23]) % 48;
    __u64 *lru_value = bpf_map_lookup_elem(&recent, &lru_key);
    if (!lru_value)
        bpf_map_update_elem(&recent, &lru_key, &start, BPF_NOEXIST);
    struct walk lru = { .stop_key = bytes[20] % 16 + 1 };
    returned = bpf_for_each_map_elem(&recent, sum_lru, &lru, 0);
    add(LRU_VISITS, lru.visits);
    add(LRU_SUM, lru.sum);
    add(LRU_RETURNED, returned);
    return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
