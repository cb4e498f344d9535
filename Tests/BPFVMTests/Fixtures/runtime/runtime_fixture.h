// What the runtime fixtures share: the project's C header for eBPF programs (section and map
// macros, the helpers), and one packet parser, so that every fixture reads headers the same way.
#ifndef RUNTIME_FIXTURE_H
#define RUNTIME_FIXTURE_H

#include "../../../../Plugins/BPFCompilerPlugin/include/swiftbpf/helpers.h"
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/pkt_cls.h>

#undef __always_inline
#define __always_inline inline __attribute__((always_inline))
#define net16(x) ((__be16)__builtin_bswap16(x))
/// Makes clang forget what it knows of `var`, so that checks on it stay in the program.
#define barrier_var(var) asm volatile("" : "+r"(var))

/// A packet's headers as far as the captured bytes reach: Ethernet, up to two VLAN tags,
/// IPv4 or IPv6 (no extension headers); TCP or UDP ports by `read_ports` (XDP) or
/// bpf_skb_load_bytes (TC).
struct packet {
    __u16 ether_type;       // after the VLAN tags, host order
    __u16 vlan_tags;
    __u16 l3_offset;        // IP header
    __u16 l4_offset;        // TCP/UDP header; 0 when there is none
    __u8 family;            // 4, 6, or 0 when the IP header is not all there
    __u8 protocol;          // IP protocol / IPv6 next header
    __be16 source_port;     // 0 unless read and captured
    __be16 destination_port;
    __u8 source[16];        // IPv4 in the first 4 bytes
    __u8 destination[16];
};

struct vlan_tag {
    __be16 control;
    __be16 ether_type;
};

/// 0 when the Ethernet header is all there (whatever follows), -1 when it is not.
static __always_inline int parse_packet(void *data, void *data_end, struct packet *p)
{
    __builtin_memset(p, 0, sizeof(*p));
    struct ethhdr *ethernet = data;
    if ((void *)(ethernet + 1) > data_end)
        return -1;
    __be16 type = ethernet->h_proto;
    __u16 offset = sizeof(*ethernet);
#pragma unroll
    for (int i = 0; i < 2; i++) {
        if (type != net16(ETH_P_8021Q) && type != net16(ETH_P_8021AD))
            break;
        struct vlan_tag *tag = data + offset;
        if ((void *)(tag + 1) > data_end)
            return 0;
        type = tag->ether_type;
        offset += sizeof(*tag);
        p->vlan_tags++;
    }
    p->ether_type = __builtin_bswap16(type);
    p->l3_offset = offset;
    if (type == net16(ETH_P_IP)) {
        struct iphdr *ip = data + offset;
        if ((void *)(ip + 1) > data_end || ip->ihl < 5)
            return 0;
        p->family = 4;
        p->protocol = ip->protocol;
        __builtin_memcpy(p->source, &ip->saddr, 4);
        __builtin_memcpy(p->destination, &ip->daddr, 4);
        if (ip->frag_off & net16(0x1fff))
            return 0;   // a later fragment: no transport header
        p->l4_offset = offset + ip->ihl * 4;
    } else if (type == net16(ETH_P_IPV6)) {
        struct ipv6hdr *ip = data + offset;
        if ((void *)(ip + 1) > data_end)
            return 0;
        p->family = 6;
        p->protocol = ip->nexthdr;
        __builtin_memcpy(p->source, &ip->saddr, 16);
        __builtin_memcpy(p->destination, &ip->daddr, 16);
        p->l4_offset = offset + sizeof(*ip);
    } else {
        return 0;
    }
    if (p->protocol != IPPROTO_TCP && p->protocol != IPPROTO_UDP)
        p->l4_offset = 0;
    return 0;
}

/// The TCP/UDP ports straight from the packet; l4_offset cleared when they are not captured.
static __always_inline void read_ports(void *data, void *data_end, struct packet *p)
{
    if (p->l4_offset == 0)
        return;
    __be16 *ports = data + p->l4_offset;
    if ((void *)(ports + 2) > data_end) {
        p->l4_offset = 0;
        return;
    }
    p->source_port = ports[0];
    p->destination_port = ports[1];
}

#endif
