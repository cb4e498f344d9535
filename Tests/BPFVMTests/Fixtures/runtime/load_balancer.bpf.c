// XDP load balancer: IPv4 TCP and UDP packets to a service port that user space lists go
// to one of the service's backends, chosen by a hash of the flow. On the way the outer
// VLAN tag is popped (bpf_xdp_adjust_head), the destination MAC, IP address and port are
// rewritten with the IP and TCP/UDP checksums updated (bpf_csum_diff, folded here),
// Ethernet padding after the datagram is trimmed (bpf_xdp_adjust_tail), and the packet
// goes back out (XDP_TX). Everything else passes untouched.
// Checks: header rewriting and checksums byte for byte, head and tail adjustment, hash and
// array maps, .bss counters.
#include "runtime_fixture.h"

struct service_key {
    __be16 port;
    __u8 protocol;
    __u8 unused;
};

struct service {
    __u32 first_backend;
    __u32 backend_count;
};

struct backend {
    __be32 address;
    __be16 port;
    __u8 mac[6];
};

#define BACKEND_COUNT 16

struct {
    __uint(type, BPF_MAP_TYPE_HASH);
    __uint(max_entries, 16);
    __type(key, struct service_key);
    __type(value, struct service);
} services SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_ARRAY);
    __uint(max_entries, BACKEND_COUNT);
    __type(key, __u32);
    __type(value, struct backend);
} backends SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_ARRAY);
    __uint(max_entries, BACKEND_COUNT);
    __type(key, __u32);
    __type(value, __u64);
} backend_packets SEC(".maps");

__u64 tags_popped = 0;
__u64 bytes_trimmed = 0;

/// The one's-complement sum folded to 16 bits and inverted: a checksum field's value.
static __always_inline __u16 csum_fold(__u64 sum)
{
    sum = (sum & 0xffff) + (sum >> 16);
    sum = (sum & 0xffff) + (sum >> 16);
    sum = (sum & 0xffff) + (sum >> 16);
    return (__u16)~sum;
}

static __always_inline __u32 flow_hash(struct packet *p)
{
    __u32 source, destination;
    __builtin_memcpy(&source, p->source, 4);
    __builtin_memcpy(&destination, p->destination, 4);
    __u32 hash = source ^ (destination * 31) ^ ((__u32)p->source_port << 16 | p->destination_port) ^ p->protocol;
    hash ^= hash >> 16;
    hash *= 0x45d9f3b;
    hash ^= hash >> 16;
    return hash;
}

/// Moves the MAC addresses over the outer VLAN tag and drops the 4 bytes in front.
static __always_inline int pop_vlan_tag(struct xdp_md *ctx)
{
    __u8 *data = (void *)(long)ctx->data;
    void *data_end = (void *)(long)ctx->data_end;
    if ((void *)(data + 16) > data_end)
        return -1;
#pragma unroll
    for (int i = 11; i >= 0; i--)
        data[i + 4] = data[i];
    return bpf_xdp_adjust_head(ctx, 4);
}

SEC("xdp")
int load_balancer(struct xdp_md *ctx)
{
    void *data = (void *)(long)ctx->data;
    void *data_end = (void *)(long)ctx->data_end;
    struct packet p;
    if (parse_packet(data, data_end, &p) < 0)
        return XDP_ABORTED;
    read_ports(data, data_end, &p);
    if (p.family != 4 || p.l4_offset == 0)
        return XDP_PASS;
    // A total length that does not cover the headers: not a datagram to balance.
    struct iphdr *header = data + p.l3_offset;
    if ((void *)(header + 1) > data_end || __builtin_bswap16(header->tot_len) < p.l4_offset - p.l3_offset + 8)
        return XDP_PASS;
    struct service_key key = { .port = p.destination_port, .protocol = p.protocol };
    struct service *service = bpf_map_lookup_elem(&services, &key);
    if (!service || service->backend_count == 0)
        return XDP_PASS;
    __u32 index = service->first_backend + flow_hash(&p) % service->backend_count;
    struct backend *found = bpf_map_lookup_elem(&backends, &index);
    if (!found)
        return XDP_PASS;
    struct backend backend = *found;
    __u64 *sent = bpf_map_lookup_elem(&backend_packets, &index);
    if (sent)
        __sync_fetch_and_add(sent, 1);

    if (p.vlan_tags > 0) {
        if (pop_vlan_tag(ctx) < 0)
            return XDP_ABORTED;
        __sync_fetch_and_add(&tags_popped, 1);
        data = (void *)(long)ctx->data;
        data_end = (void *)(long)ctx->data_end;
        if (parse_packet(data, data_end, &p) < 0 || p.family != 4 || p.l4_offset == 0)
            return XDP_ABORTED;
        read_ports(data, data_end, &p);
    }

    struct ethhdr *ethernet = data;
    struct iphdr *ip = data + p.l3_offset;
    __be16 *ports = data + p.l4_offset;
    if ((void *)(ethernet + 1) > data_end || (void *)(ip + 1) > data_end || (void *)(ports + 2) > data_end)
        return XDP_ABORTED;
    __builtin_memcpy(ethernet->h_source, ethernet->h_dest, ETH_ALEN);
    __builtin_memcpy(ethernet->h_dest, backend.mac, ETH_ALEN);

    __be32 old_address = ip->daddr;
    __be32 new_address = backend.address;
    __s64 address_sum = bpf_csum_diff(&old_address, 4, &new_address, 4, 0);
    if (address_sum < 0)
        return XDP_ABORTED;
    ip->check = csum_fold((__u16)~ip->check + (__u32)address_sum);
    ip->daddr = new_address;

    __be16 old_ports[2] = { ports[0], ports[1] };
    __be16 new_ports[2] = { ports[0], backend.port };
    __s64 transport_sum = bpf_csum_diff((__be32 *)old_ports, 4, (__be32 *)new_ports, 4, (__u32)address_sum);
    if (transport_sum < 0)
        return XDP_ABORTED;
    ports[1] = backend.port;
    // The checksum field, where it was captured; UDP's 0 means "no checksum".
    __u16 field = p.protocol == IPPROTO_TCP ? 16 : 6;
    __sum16 *check = data + p.l4_offset + field;
    if ((void *)(check + 1) <= data_end && (p.protocol == IPPROTO_TCP || *check != 0)) {
        __u16 updated = csum_fold((__u16)~*check + (__u32)transport_sum);
        *check = (p.protocol == IPPROTO_UDP && updated == 0) ? 0xffff : updated;
    }

    __u32 frame_length = data_end - data;
    __u32 datagram_end = p.l3_offset + __builtin_bswap16(ip->tot_len);
    if (datagram_end >= sizeof(struct ethhdr) && datagram_end < frame_length) {
        int excess = frame_length - datagram_end;
        if (bpf_xdp_adjust_tail(ctx, -excess) == 0)
            __sync_fetch_and_add(&bytes_trimmed, excess);
    }
    return XDP_TX;
}

char LICENSE[] SEC("license") = "GPL";
