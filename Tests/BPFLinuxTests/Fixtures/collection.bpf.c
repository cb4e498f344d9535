// A whole object for ObjectCollection: several programs and maps, global data in .data,
// .bss and .rodata, .kconfig externs, a kfunc and a typed __ksym, a program array and a
// map-in-map filled from `.values`, and a map pinned by name.
#include "collection_helpers.h"

const volatile __u64 multiplier = 1;      // .rodata: set before load, then frozen
__u64 input = 7;                          // .data: written by Swift, read by `compute`
__u64 output;                             // .bss: written by `compute`, read by Swift
__u64 kernel_version;                     // .bss: LINUX_KERNEL_VERSION seen by the program
__u64 bpf_syscall_enabled;                // .bss: CONFIG_BPF_SYSCALL seen by the program
__u64 missing_option = 99;                // .data: a weak kconfig the kernel lacks reads 0

extern unsigned int LINUX_KERNEL_VERSION __kconfig;
extern _Bool CONFIG_BPF_SYSCALL __kconfig;
extern int CONFIG_SWIFTBPF_NO_SUCH_OPTION __kconfig __weak;
extern void bpf_rcu_read_lock(void) __ksym;
extern void bpf_rcu_read_unlock(void) __ksym;

struct {
    __uint(type, BPF_MAP_TYPE_HASH);
    __uint(max_entries, 16);
    __type(key, __u32);
    __type(value, __u64);
} results SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_ARRAY);
    __uint(max_entries, 4);
    __type(key, __u32);
    __type(value, __u64);
    __uint(pinning, LIBBPF_PIN_BY_NAME);
} shared_counts SEC(".maps");

struct inner_map {
    __uint(type, BPF_MAP_TYPE_ARRAY);
    __uint(max_entries, 2);
    __type(key, __u32);
    __type(value, __u32);
} inner_a SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS);
    __uint(max_entries, 2);
    __type(key, __u32);
    __array(values, struct inner_map);
} outer SEC(".maps") = { .values = { [1] = &inner_a } };

SEC("xdp") int tail_target(struct xdp_md *ctx) { return XDP_TX; }

struct {
    __uint(type, BPF_MAP_TYPE_PROG_ARRAY);
    __uint(max_entries, 2);
    __type(key, __u32);
    __array(values, int (void *));
} jumps SEC(".maps") = { .values = { [0] = (void *)&tail_target } };

SEC("syscall") int compute(void *ctx) {
    output = input * multiplier;
    kernel_version = LINUX_KERNEL_VERSION;
    bpf_syscall_enabled = CONFIG_BPF_SYSCALL;
    missing_option = CONFIG_SWIFTBPF_NO_SUCH_OPTION;
    bpf_rcu_read_lock();
    bpf_rcu_read_unlock();
    __u32 key = 1;
    __u64 value = output;
    bpf_map_update_elem(&results, &key, &value, BPF_ANY);
    __u64 *shared = bpf_map_lookup_elem(&shared_counts, &key);
    if (shared) __sync_fetch_and_add(shared, 1);
    return 0;
}

SEC("xdp") int jump(struct xdp_md *ctx) {
    bpf_tail_call(ctx, &jumps, 0);
    return XDP_PASS;
}

SEC("xdp") int through_inner(struct xdp_md *ctx) {
    __u32 key = 1;
    void *inner = bpf_map_lookup_elem(&outer, &key);
    if (!inner) return XDP_ABORTED;
    __u32 *value = bpf_map_lookup_elem(inner, &key);
    return value ? *value : XDP_DROP;
}

SEC("?xdp") int not_loaded(struct xdp_md *ctx) { return XDP_PASS; }

char LICENSE[] SEC("license") = "GPL";
