// The XDP packet helpers: xdp_adjust_head, xdp_adjust_meta and xdp_adjust_tail by the
// deltas user space sets in .data, each one's return value kept in .bss, and bytes written
// at the new start of the packet and of the metadata so the tests see where they went.
#include "vm_object.h"

int head_delta = 0;
int meta_delta = 0;
int tail_delta = 0;
long head_result = 1, meta_result = 1, tail_result = 1;
__u64 length_after = 0;

SEC("xdp")
int adjust(struct xdp_md *ctx) {
    head_result = bpf_xdp_adjust_head(ctx, head_delta);
    meta_result = bpf_xdp_adjust_meta(ctx, meta_delta);
    tail_result = bpf_xdp_adjust_tail(ctx, tail_delta);
    unsigned char *data = (unsigned char *)(long)ctx->data;
    unsigned char *end = (unsigned char *)(long)ctx->data_end;
    unsigned char *meta = (unsigned char *)(long)ctx->data_meta;
    length_after = end - data;
    if (data + 1 <= end)
        data[0] = 0xaa;
    if (meta + 1 <= data)
        meta[0] = 0xbb;
    return XDP_PASS;
}

__u32 words_from[2] = {0x01020304, 0x05060708};
__u32 words_to[3] = {0x11223344, 0x55667788, 0x99aabbcc};
__u32 csum_seed = 0x1234;
long csum_result = 0, csum_odd = 0;

SEC("xdp")
int checksum(struct xdp_md *ctx) {
    __u32 from[2] = {words_from[0], words_from[1]};
    __u32 to[3] = {words_to[0], words_to[1], words_to[2]};
    csum_result = bpf_csum_diff(from, sizeof(from), to, sizeof(to), csum_seed);
    csum_odd = bpf_csum_diff(from, 6, to, sizeof(to), 0);
    return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
