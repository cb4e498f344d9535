// Networking hooks, each counting the test's packets: Ethernet frames of the local
// experimental type 0x88B5 at XDP (slot 0, passes them) and tcx (slot 1, lets them go on),
// packets leaving a cgroup (cgroup skb egress, slot 2, allows them), and datagrams at a
// socket filter (slot 3) that keeps those up to 100 bytes long (UDP header included) and
// drops longer ones. Other traffic on the test's interfaces (IPv6 autoconfiguration, say)
// is not counted.
#include "attach_helpers.h"

#define TEST_ETHERTYPE 0x88B5

SEC("xdp")
int xdp_count(struct xdp_md *context) {
    unsigned char *data = (void *)(long)context->data;
    unsigned char *end = (void *)(long)context->data_end;
    if (data + 14 <= end && data[12] == (TEST_ETHERTYPE >> 8) && data[13] == (TEST_ETHERTYPE & 0xff)) count(0, 1);
    return XDP_PASS;
}

// A second XDP program, for replacing xdp_count in its link (counts in slot 4).
SEC("xdp")
int xdp_count_again(struct xdp_md *context) {
    unsigned char *data = (void *)(long)context->data;
    unsigned char *end = (void *)(long)context->data_end;
    if (data + 14 <= end && data[12] == (TEST_ETHERTYPE >> 8) && data[13] == (TEST_ETHERTYPE & 0xff)) count(4, 1);
    return XDP_PASS;
}

SEC("tc")
int tcx_count(struct __sk_buff *skb) {
    // skb->protocol is in network byte order.
    if (skb->protocol == __builtin_bswap16(TEST_ETHERTYPE)) count(1, 1);
    return -1; // TCX_NEXT: on to the next program or the stack
}

SEC("cgroup_skb/egress")
int cgroup_egress_count(struct __sk_buff *skb) {
    count(2, 1);
    return 1;
}

SEC("socket")
int short_datagrams(struct __sk_buff *skb) {
    count(3, 1);
    return skb->len <= 100 ? skb->len : 0;
}
