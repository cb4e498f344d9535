// TC per-flow counter: packets and bytes (the skb's length) per 5-tuple (addresses, ports,
// protocol, family; EtherType alone for what is not IP) in an LRU hash sized so that the
// capture corpus never fills it; every packet continues (TC_ACT_OK).
// Checks: the __sk_buff context (data, data_end, len), ports read straight from the packet
// after an IP header of variable length, LRU hash insertion and update, a struct key with 16-byte addresses, .bss counters.
#include "runtime_fixture.h"

struct flow {
    __u8 source[16];
    __u8 destination[16];
    __be16 source_port;
    __be16 destination_port;
    __u16 ether_type;
    __u8 protocol;
    __u8 family;
};

struct flow_totals {
    __u64 packets;
    __u64 bytes;
};

struct {
    __uint(type, BPF_MAP_TYPE_LRU_HASH);
    __uint(max_entries, 65536);
    __type(key, struct flow);
    __type(value, struct flow_totals);
} flows SEC(".maps");

__u64 packets_seen = 0;
__u64 flows_added = 0;

SEC("tc")
int flow_counter(struct __sk_buff *skb)
{
    void *data = (void *)(long)skb->data;
    void *data_end = (void *)(long)skb->data_end;
    __sync_fetch_and_add(&packets_seen, 1);
    struct packet p;
    if (parse_packet(data, data_end, &p) < 0)
        return TC_ACT_OK;
    struct flow key;
    __builtin_memset(&key, 0, sizeof(key));
    __builtin_memcpy(key.source, p.source, 16);
    __builtin_memcpy(key.destination, p.destination, 16);
    read_ports(data, data_end, &p);
    key.source_port = p.source_port;
    key.destination_port = p.destination_port;
    key.ether_type = p.ether_type;
    key.protocol = p.protocol;
    key.family = p.family;
    struct flow_totals *totals = bpf_map_lookup_elem(&flows, &key);
    if (totals) {
        __sync_fetch_and_add(&totals->packets, 1);
        __sync_fetch_and_add(&totals->bytes, skb->len);
    } else {
        struct flow_totals first = { .packets = 1, .bytes = skb->len };
        if (bpf_map_update_elem(&flows, &key, &first, BPF_NOEXIST) == 0)
            __sync_fetch_and_add(&flows_added, 1);
    }
    return TC_ACT_OK;
}

char LICENSE[] SEC("license") = "GPL";
