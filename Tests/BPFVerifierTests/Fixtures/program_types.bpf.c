// Small programs of each program type the verifier knows, compiled by the toolchain's clang:
// the verifier-agreement corpus loads each into the kernel and verifies it with SwiftBPF,
// and the two verdicts must agree. Helpers are declared here (no libbpf headers).
#include <linux/types.h>
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/ip.h>

#define SEC(name) __attribute__((section(name), used))
#define __uint(name, value) int (*name)[value]
#define __type(name, value) typeof(value) *name

static void *(*bpf_map_lookup_elem)(void *map, const void *key) = (void *)BPF_FUNC_map_lookup_elem;
static long (*bpf_map_update_elem)(void *map, const void *key, const void *value, __u64 flags) = (void *)BPF_FUNC_map_update_elem;
static __u64 (*bpf_ktime_get_ns)(void) = (void *)BPF_FUNC_ktime_get_ns;
static __u64 (*bpf_get_current_pid_tgid)(void) = (void *)BPF_FUNC_get_current_pid_tgid;
static long (*bpf_probe_read_kernel)(void *dst, __u32 size, const void *src) = (void *)BPF_FUNC_probe_read_kernel;
static void *(*bpf_ringbuf_reserve)(void *ringbuf, __u64 size, __u64 flags) = (void *)BPF_FUNC_ringbuf_reserve;
static void (*bpf_ringbuf_submit)(void *data, __u64 flags) = (void *)BPF_FUNC_ringbuf_submit;
static long (*bpf_skb_load_bytes)(const void *skb, __u32 offset, void *to, __u32 len) = (void *)BPF_FUNC_skb_load_bytes;

struct {
    __uint(type, BPF_MAP_TYPE_ARRAY);
    __uint(max_entries, 16);
    __type(key, __u32);
    __type(value, __u64);
} counts SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_HASH);
    __uint(max_entries, 64);
    __type(key, __u32);
    __type(value, __u64);
} by_pid SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_RINGBUF);
    __uint(max_entries, 4096);
} events SEC(".maps");

struct event { __u64 time; __u32 pid; __u32 value; };

static __inline void count(__u32 slot) {
    __u64 *value = bpf_map_lookup_elem(&counts, &slot);
    if (value) __sync_fetch_and_add(value, 1);
}

SEC("socket") int socket_length(struct __sk_buff *skb) {
    count(skb->len & 15);
    return skb->len > 100 ? 0 : -1;
}

SEC("socket") int socket_load_bytes(struct __sk_buff *skb) {
    __u16 type = 0;
    if (bpf_skb_load_bytes(skb, 12, &type, sizeof(type)) < 0) return 0;
    return type == 0x0008 ? -1 : 0;
}

SEC("xdp") int xdp_parse_ipv4(struct xdp_md *ctx) {
    void *data = (void *)(long)ctx->data;
    void *end = (void *)(long)ctx->data_end;
    struct ethhdr *eth = data;
    if ((void *)(eth + 1) > end) return XDP_PASS;
    if (eth->h_proto != 0x0008) return XDP_PASS;
    struct iphdr *ip = (void *)(eth + 1);
    if ((void *)(ip + 1) > end) return XDP_PASS;
    count(ip->protocol & 15);
    return ip->ttl == 1 ? XDP_DROP : XDP_PASS;
}

SEC("xdp") int xdp_count_all(struct xdp_md *ctx) {
    count(ctx->rx_queue_index & 15);
    return XDP_PASS;
}

SEC("tc") int tc_mark(struct __sk_buff *skb) {
    void *data = (void *)(long)skb->data;
    void *end = (void *)(long)skb->data_end;
    if (data + 14 > end) return 0;
    skb->mark = ((__u8 *)data)[13];
    return 0;
}

SEC("cgroup_skb/ingress") int cgroup_allow_small(struct __sk_buff *skb) {
    count(3);
    return skb->len < 10000 ? 1 : 0;
}

SEC("tracepoint/syscalls/sys_enter_getpid") int tracepoint_pids(void *ctx) {
    __u32 pid = bpf_get_current_pid_tgid() >> 32;
    __u64 one = 1;
    __u64 *seen = bpf_map_lookup_elem(&by_pid, &pid);
    if (seen) *seen += 1;
    else bpf_map_update_elem(&by_pid, &pid, &one, BPF_ANY);
    return 0;
}

SEC("tracepoint/syscalls/sys_enter_getppid") int tracepoint_ringbuf(void *ctx) {
    struct event *e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
    if (!e) return 0;
    e->time = bpf_ktime_get_ns();
    e->pid = bpf_get_current_pid_tgid() >> 32;
    e->value = 7;
    bpf_ringbuf_submit(e, 0);
    return 0;
}

SEC("raw_tracepoint/sys_enter") int raw_tracepoint_id(struct bpf_raw_tracepoint_args *ctx) {
    count(ctx->args[1] & 15);
    return 0;
}

struct x86_registers {
    unsigned long r15, r14, r13, r12, bp, bx, r11, r10, r9, r8;
    unsigned long ax, cx, dx, si, di, orig_ax, ip, cs, flags, sp, ss;
};

SEC("uprobe") int uprobe_first_argument(struct x86_registers *regs) {
    __u64 copy = 0;
    bpf_probe_read_kernel(&copy, sizeof(copy), (void *)regs->di);
    count(copy & 15);
    return 0;
}

struct perf_event_context { struct x86_registers regs; __u64 sample_period; __u64 addr; };

SEC("perf_event") int perf_event_sample(struct perf_event_context *ctx) {
    count(ctx->sample_period & 15);
    return 0;
}

static __attribute__((noinline)) int sum_to(int n) {
    int total = 0;
    for (int i = 0; i < n && i < 32; i++) total += i;
    return total;
}

SEC("socket") int socket_bounded_loop(struct __sk_buff *skb) {
    return sum_to(skb->len & 63);
}

char LICENSE[] SEC("license") = "GPL";
