// XDP firewall: the source address, else the destination, of IPv4 and IPv6 packets is
// looked up in an LPM trie of prefixes that user space fills; the longest matching rule
// drops or passes the packet and counts it (packets and bytes) under its id.
// Checks: LPM trie longest-prefix lookups for both families, array counters, verdicts.
#include "runtime_fixture.h"

struct ipv4_prefix {
    __u32 prefix_length;
    __u8 address[4];
};

struct ipv6_prefix {
    __u32 prefix_length;
    __u8 address[16];
};

struct rule {
    __u32 id;       // index into rule_counters, 2 and up
    __u32 action;   // XDP_DROP or XDP_PASS
};

struct counter {
    __u64 packets;
    __u64 bytes;
};

#define RULE_COUNT 64
#define COUNTER_NOT_IP 0        // not IPv4/IPv6, or its IP header is cut short
#define COUNTER_NO_RULE 1       // IP, no prefix matched

struct {
    __uint(type, BPF_MAP_TYPE_LPM_TRIE);
    __uint(max_entries, RULE_COUNT);
    __uint(map_flags, BPF_F_NO_PREALLOC);
    __type(key, struct ipv4_prefix);
    __type(value, struct rule);
} ipv4_rules SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_LPM_TRIE);
    __uint(max_entries, RULE_COUNT);
    __uint(map_flags, BPF_F_NO_PREALLOC);
    __type(key, struct ipv6_prefix);
    __type(value, struct rule);
} ipv6_rules SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_ARRAY);
    __uint(max_entries, RULE_COUNT);
    __type(key, __u32);
    __type(value, struct counter);
} rule_counters SEC(".maps");

static __always_inline void count(__u32 id, __u64 bytes)
{
    struct counter *counter = bpf_map_lookup_elem(&rule_counters, &id);
    if (counter) {
        __sync_fetch_and_add(&counter->packets, 1);
        __sync_fetch_and_add(&counter->bytes, bytes);
    }
}

static __always_inline struct rule *match(struct packet *p, __u8 *address)
{
    if (p->family == 4) {
        struct ipv4_prefix key = { .prefix_length = 32 };
        __builtin_memcpy(key.address, address, 4);
        return bpf_map_lookup_elem(&ipv4_rules, &key);
    }
    struct ipv6_prefix key = { .prefix_length = 128 };
    __builtin_memcpy(key.address, address, 16);
    return bpf_map_lookup_elem(&ipv6_rules, &key);
}

SEC("xdp")
int firewall(struct xdp_md *ctx)
{
    void *data = (void *)(long)ctx->data;
    void *data_end = (void *)(long)ctx->data_end;
    __u64 bytes = data_end - data;
    struct packet p;
    if (parse_packet(data, data_end, &p) < 0)
        return XDP_ABORTED;
    if (p.family == 0) {
        count(COUNTER_NOT_IP, bytes);
        return XDP_PASS;
    }
    struct rule *rule = match(&p, p.source);
    if (!rule)
        rule = match(&p, p.destination);
    if (!rule || rule->id >= RULE_COUNT) {
        count(COUNTER_NO_RULE, bytes);
        return XDP_PASS;
    }
    count(rule->id, bytes);
    return rule->action == XDP_DROP ? XDP_DROP : XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
