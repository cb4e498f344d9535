// Ring buffer and queue helpers from an XDP program: each packet reserves a record with its
// length and EtherType and submits it (or discards it when the length is odd), writes its
// first 4 bytes with ringbuf_output, and pushes its length on a queue; a second program pops
// the queue and peeks it. The results go to .bss for the tests.
#include "vm_object.h"

struct {
    __uint(type, BPF_MAP_TYPE_RINGBUF);
    __uint(max_entries, 4096);
} events SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_QUEUE);
    __uint(max_entries, 2);
    __type(value, __u32);
} lengths SEC(".maps");

struct event {
    __u32 length;
    __u16 ether_type;
    __u16 pad;
};

long output_result = 1, push_result = 1, pop_result = 1, peek_result = 1;
__u64 available = 0, ring_size = 0;
__u32 popped = 0, peeked = 0;

SEC("xdp")
int record(struct xdp_md *ctx) {
    unsigned char *data = (unsigned char *)(long)ctx->data;
    unsigned char *end = (unsigned char *)(long)ctx->data_end;
    if (data + 14 > end)
        return XDP_DROP;
    // A 64-bit subtraction of the pointers: clang would narrow it, and 32-bit arithmetic on
    // pointers is refused (by the kernel too); the empty asm keeps it 64 bits wide.
    __u64 wide = end - data;
    asm volatile("" : "+r"(wide));
    __u32 length = wide;
    struct event *event = bpf_ringbuf_reserve(&events, sizeof(struct event), 0);
    if (event) {
        event->length = length;
        event->ether_type = (__u16)(data[12] << 8 | data[13]);
        event->pad = 0;
        if (length & 1)
            bpf_ringbuf_discard(event, 0);
        else
            bpf_ringbuf_submit(event, 0);
    }
    __u32 first;
    __builtin_memcpy(&first, data, 4);
    output_result = bpf_ringbuf_output(&events, &first, sizeof(first), 0);
    push_result = bpf_map_push_elem(&lengths, &length, 0);
    available = bpf_ringbuf_query(&events, 0);
    ring_size = bpf_ringbuf_query(&events, 1);
    return XDP_PASS;
}

SEC("xdp")
int drain(struct xdp_md *ctx) {
    __u32 value = 0;
    pop_result = bpf_map_pop_elem(&lengths, &value);
    popped = value;
    value = 0;
    peek_result = bpf_map_peek_elem(&lengths, &value);
    peeked = value;
    return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
