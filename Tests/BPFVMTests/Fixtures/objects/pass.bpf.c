// The least an XDP program does: checks that an Ethernet header is there and passes the
// packet. The runtime benchmark times it to show what a run costs besides the program.
#include "vm_object.h"

SEC("xdp")
int pass(struct xdp_md *ctx) {
    void *data = (void *)(long)ctx->data;
    void *end = (void *)(long)ctx->data_end;
    return data + 14 <= end ? XDP_PASS : XDP_DROP;
}

char LICENSE[] SEC("license") = "GPL";
