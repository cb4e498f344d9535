// A request filter for the plugin example: C that the server runs in SwiftBPF's VM on every
// request. The server hands the request's bytes over as the packet of an XDP program, so
// the plugin reads them between ctx->data and ctx->data_end; XDP_PASS serves the request,
// XDP_DROP refuses it. The plugin counts requests by their first four bytes in a map, keeps
// a count of refusals in a global, and tells the server why through the server's own
// helper, server_log.
#include <linux/types.h>
#include <linux/bpf.h>

#define SEC(name) __attribute__((section(name), used))
#define __uint(name, value) int (*name)[value]
#define __type(name, value) typeof(value) *name

static void *(*bpf_map_lookup_elem)(void *map, const void *key) = (void *)BPF_FUNC_map_lookup_elem;
static long (*bpf_map_update_elem)(void *map, const void *key, const void *value, __u64 flags) = (void *)BPF_FUNC_map_update_elem;
static long (*bpf_strncmp)(const char *s1, __u32 s1_sz, const char *s2) = (void *)BPF_FUNC_strncmp;
// The host's helper: the server registers it under this number with its prototype.
static long (*server_log)(const char *text, __u32 length) = (void *)1000;

struct {
    __uint(type, BPF_MAP_TYPE_HASH);
    __uint(max_entries, 16);
    __type(key, char[4]);
    __type(value, __u64);
} by_method SEC(".maps");

// The longest request served; the server sets it before the first request.
const volatile __u32 max_length = 1024;
__u64 refused = 0;

SEC("xdp")
int filter(struct xdp_md *ctx) {
    const char *data = (const char *)(long)ctx->data;
    const char *end = (const char *)(long)ctx->data_end;
    if (data + 10 > end)
        return XDP_DROP;
    char method[4];
    __builtin_memcpy(method, data, 4);
    __u64 one = 1;
    __u64 *count = bpf_map_lookup_elem(&by_method, method);
    if (count)
        __sync_fetch_and_add(count, 1);
    else
        bpf_map_update_elem(&by_method, method, &one, BPF_ANY);

    if (end - data > max_length) {
        static const char too_long[] = "refused: longer than max_length";
        server_log(too_long, sizeof(too_long) - 1);
        refused++;
        return XDP_DROP;
    }
    if (bpf_strncmp(data, 10, "GET /admin") == 0) {
        static const char admin[] = "refused: /admin is not served";
        server_log(admin, sizeof(admin) - 1);
        refused++;
        return XDP_DROP;
    }
    return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
