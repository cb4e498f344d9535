// SwiftBPF's helpers for eBPF programs in C, built by the BPFCompilerPlugin: section and
// map-definition macros, the kernel helpers (numbered from the UAPI's enum, so no libbpf
// headers are needed), and CORE_READ for kernel memory reached through CO-RE.
#ifndef SWIFTBPF_HELPERS_H
#define SWIFTBPF_HELPERS_H

#include <linux/types.h>
#include <linux/bpf.h>

/// Puts a program or map in the ELF section that says what it is: SEC("tracepoint/...").
#define SEC(name) __attribute__((section(name), used))
/// Map attributes, as BTF-defined maps declare them (`__uint(max_entries, 1024)`).
#define __uint(name, value) int (*name)[value]
#define __type(name, value) typeof(value) *name

static void *(*bpf_map_lookup_elem)(void *map, const void *key) = (void *)BPF_FUNC_map_lookup_elem;
static long (*bpf_map_update_elem)(void *map, const void *key, const void *value, __u64 flags) = (void *)BPF_FUNC_map_update_elem;
static long (*bpf_map_delete_elem)(void *map, const void *key) = (void *)BPF_FUNC_map_delete_elem;
static __u64 (*bpf_ktime_get_ns)(void) = (void *)BPF_FUNC_ktime_get_ns;
static __u64 (*bpf_ktime_get_boot_ns)(void) = (void *)BPF_FUNC_ktime_get_boot_ns;
static __u64 (*bpf_get_current_pid_tgid)(void) = (void *)BPF_FUNC_get_current_pid_tgid;
static __u64 (*bpf_get_current_uid_gid)(void) = (void *)BPF_FUNC_get_current_uid_gid;
static long (*bpf_get_current_comm)(void *buffer, __u32 size) = (void *)BPF_FUNC_get_current_comm;
static __u64 (*bpf_get_current_task)(void) = (void *)BPF_FUNC_get_current_task;
static long (*bpf_probe_read_kernel)(void *destination, __u32 size, const void *source) = (void *)BPF_FUNC_probe_read_kernel;
static long (*bpf_probe_read_user)(void *destination, __u32 size, const void *source) = (void *)BPF_FUNC_probe_read_user;
static long (*bpf_probe_read_user_str)(void *destination, __u32 size, const void *source) = (void *)BPF_FUNC_probe_read_user_str;
static long (*bpf_probe_read_kernel_str)(void *destination, __u32 size, const void *source) = (void *)BPF_FUNC_probe_read_kernel_str;
static void *(*bpf_ringbuf_reserve)(void *ringbuf, __u64 size, __u64 flags) = (void *)BPF_FUNC_ringbuf_reserve;
static void (*bpf_ringbuf_submit)(void *data, __u64 flags) = (void *)BPF_FUNC_ringbuf_submit;
static void (*bpf_ringbuf_discard)(void *data, __u64 flags) = (void *)BPF_FUNC_ringbuf_discard;
static long (*bpf_ringbuf_output)(void *ringbuf, void *data, __u64 size, __u64 flags) = (void *)BPF_FUNC_ringbuf_output;
static __u64 (*bpf_ringbuf_query)(void *ringbuf, __u64 flags) = (void *)BPF_FUNC_ringbuf_query;
static long (*bpf_perf_event_output)(void *context, void *map, __u64 flags, void *data, __u64 size) = (void *)BPF_FUNC_perf_event_output;
static long (*bpf_get_stackid)(void *context, void *map, __u64 flags) = (void *)BPF_FUNC_get_stackid;
static long (*bpf_trace_printk)(const char *format, __u32 size, ...) = (void *)BPF_FUNC_trace_printk;
static __u32 (*bpf_get_prandom_u32)(void) = (void *)BPF_FUNC_get_prandom_u32;
static __u32 (*bpf_get_smp_processor_id)(void) = (void *)BPF_FUNC_get_smp_processor_id;
static long (*bpf_snprintf)(char *str, __u32 str_size, const char *fmt, __u64 *data, __u32 data_len) = (void *)BPF_FUNC_snprintf;
static long (*bpf_strncmp)(const char *s1, __u32 s1_sz, const char *s2) = (void *)BPF_FUNC_strncmp;
static long (*bpf_map_push_elem)(void *map, const void *value, __u64 flags) = (void *)BPF_FUNC_map_push_elem;
static long (*bpf_map_pop_elem)(void *map, void *value) = (void *)BPF_FUNC_map_pop_elem;
static long (*bpf_map_peek_elem)(void *map, void *value) = (void *)BPF_FUNC_map_peek_elem;
static long (*bpf_tail_call)(void *ctx, void *map, __u32 index) = (void *)BPF_FUNC_tail_call;
// Callbacks: a static function of the program, passed by address; it returns 0 to go on, 1 to stop.
static long (*bpf_loop)(__u32 nr_loops, void *callback_fn, void *callback_ctx, __u64 flags) = (void *)BPF_FUNC_loop;
static long (*bpf_for_each_map_elem)(void *map, void *callback_fn, void *callback_ctx, __u64 flags) = (void *)BPF_FUNC_for_each_map_elem;
// Packets: XDP and socket buffers.
static __s64 (*bpf_csum_diff)(__be32 *from, __u32 from_size, __be32 *to, __u32 to_size, __wsum seed) = (void *)BPF_FUNC_csum_diff;
static long (*bpf_xdp_adjust_head)(struct xdp_md *ctx, int delta) = (void *)BPF_FUNC_xdp_adjust_head;
static long (*bpf_xdp_adjust_meta)(struct xdp_md *ctx, int delta) = (void *)BPF_FUNC_xdp_adjust_meta;
static long (*bpf_xdp_adjust_tail)(struct xdp_md *ctx, int delta) = (void *)BPF_FUNC_xdp_adjust_tail;
static long (*bpf_skb_load_bytes)(const void *skb, __u32 offset, void *to, __u32 len) = (void *)BPF_FUNC_skb_load_bytes;
static long (*bpf_skb_store_bytes)(void *skb, __u32 offset, const void *from, __u32 len, __u64 flags) = (void *)BPF_FUNC_skb_store_bytes;

/// Reads `expression` (a field of a kernel structure, e.g. `task->real_parent`) from kernel
/// memory with its offset relocated by CO-RE against the running kernel's BTF: declare the
/// structure with only the fields used and `__attribute__((preserve_access_index))`.
#define CORE_READ(expression) ({                                                              \
        typeof(expression) __value = {};                                                      \
        bpf_probe_read_kernel(&__value, sizeof(__value), __builtin_preserve_access_index(&(expression))); \
        __value;                                                                              \
    })

#endif
