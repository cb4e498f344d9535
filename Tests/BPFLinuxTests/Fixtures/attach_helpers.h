// What the attach and event fixtures need from libbpf's headers, written out: section and
// map-definition macros, the helpers they call (numbered from the UAPI enum), and the
// x86-64 register layout that uprobes see. No libbpf headers are used.
#ifndef ATTACH_HELPERS_H
#define ATTACH_HELPERS_H

#include <linux/types.h>
#include <linux/bpf.h>

#define SEC(name) __attribute__((section(name), used))
#define __uint(name, value) int (*name)[value]
#define __type(name, value) typeof(value) *name

static void *(*bpf_map_lookup_elem)(void *map, const void *key) = (void *)BPF_FUNC_map_lookup_elem;
static long (*bpf_map_update_elem)(void *map, const void *key, const void *value, __u64 flags) = (void *)BPF_FUNC_map_update_elem;
static __u64 (*bpf_get_current_pid_tgid)(void) = (void *)BPF_FUNC_get_current_pid_tgid;
static long (*bpf_perf_event_output)(void *ctx, void *map, __u64 flags, void *data, __u64 size) = (void *)BPF_FUNC_perf_event_output;
static long (*bpf_ringbuf_output)(void *ringbuf, void *data, __u64 size, __u64 flags) = (void *)BPF_FUNC_ringbuf_output;
static void *(*bpf_ringbuf_reserve)(void *ringbuf, __u64 size, __u64 flags) = (void *)BPF_FUNC_ringbuf_reserve;
static void (*bpf_ringbuf_submit)(void *data, __u64 flags) = (void *)BPF_FUNC_ringbuf_submit;
static long (*bpf_loop)(__u32 count, void *callback, void *context, __u64 flags) = (void *)BPF_FUNC_loop;

/// struct pt_regs on x86-64, as uprobe programs get it.
struct x86_registers {
    unsigned long r15, r14, r13, r12, bp, bx, r11, r10, r9, r8;
    unsigned long ax, cx, dx, si, di, orig_ax, ip, cs, flags, sp, ss;
};

/// What the programs count: a process (tgid) or one thread (tid), written by the test
/// before it attaches (key 0). A thread keeps counts exact while other tests run.
struct {
    __uint(type, BPF_MAP_TYPE_ARRAY);
    __uint(max_entries, 1);
    __type(key, __u32);
    __type(value, __u32);
} target SEC(".maps");

static __inline int is_target(void) {
    __u32 key = 0;
    __u32 *wanted = bpf_map_lookup_elem(&target, &key);
    __u64 pid_tgid = bpf_get_current_pid_tgid();
    return wanted && (*wanted == (__u32)(pid_tgid >> 32) || *wanted == (__u32)pid_tgid);
}

/// Counters, by slot; each fixture says which slot is whose.
struct {
    __uint(type, BPF_MAP_TYPE_ARRAY);
    __uint(max_entries, 8);
    __type(key, __u32);
    __type(value, __u64);
} counts SEC(".maps");

static __inline void count(__u32 slot, __u64 amount) {
    __u64 *value = bpf_map_lookup_elem(&counts, &slot);
    if (value) __sync_fetch_and_add(value, amount);
}

static __inline void store(__u32 slot, __u64 amount) {
    __u64 *value = bpf_map_lookup_elem(&counts, &slot);
    if (value) *value = amount;
}

char LICENSE[] SEC("license") = "GPL";

#endif
