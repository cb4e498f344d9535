// TC sampler: every Nth packet (N a .rodata constant user space may set) writes its length,
// the skb's protocol and its first 64 bytes to a ring buffer, alternately through
// bpf_ringbuf_reserve + submit and bpf_ringbuf_output; samples of runt frames (under 60
// bytes) are reserved and then discarded; frames under 14 bytes are not sampled. Counters
// in .bss; every packet continues.
// Checks: ring buffer records in order (discarded ones skipped), bpf_skb_load_bytes,
// __sk_buff len and protocol (as the kernel's eth_type_trans sets it), atomic fetch-add.
#include "runtime_fixture.h"

struct sample {
    __u64 index;        // the packet's number, from 0
    __u32 length;
    __u16 protocol;     // skb->protocol, network order
    __u16 captured;     // bytes of header[] copied from the packet
    __u8 header[64];
};

struct {
    __uint(type, BPF_MAP_TYPE_RINGBUF);
    __uint(max_entries, 1 << 18);
} samples SEC(".maps");

const volatile __u32 sample_every = 8;
__u64 packets_seen = 0;
__u64 samples_submitted = 0;
__u64 samples_output = 0;
__u64 samples_discarded = 0;
__u64 samples_lost = 0;

SEC("tc")
int sampler(struct __sk_buff *skb)
{
    __u64 index = __sync_fetch_and_add(&packets_seen, 1);
    if (sample_every == 0 || index % sample_every != 0)
        return TC_ACT_OK;
    __u32 length = skb->len;
    if (length < ETH_HLEN)
        return TC_ACT_OK;
    __u32 captured = length < 64 ? length : 64;

    if ((index / sample_every) % 2 == 0) {
        struct sample *sample = bpf_ringbuf_reserve(&samples, sizeof(*sample), 0);
        if (!sample) {
            __sync_fetch_and_add(&samples_lost, 1);
            return TC_ACT_OK;
        }
        __builtin_memset(sample, 0, sizeof(*sample));
        sample->index = index;
        sample->length = length;
        sample->protocol = (__u16)skb->protocol;
        sample->captured = captured;
        if (length < 60 || bpf_skb_load_bytes(skb, 0, sample->header, captured) < 0) {
            bpf_ringbuf_discard(sample, 0);
            __sync_fetch_and_add(&samples_discarded, 1);
            return TC_ACT_OK;
        }
        bpf_ringbuf_submit(sample, 0);
        __sync_fetch_and_add(&samples_submitted, 1);
    } else {
        struct sample sample;
        __builtin_memset(&sample, 0, sizeof(sample));
        sample.index = index;
        sample.length = length;
        sample.protocol = (__u16)skb->protocol;
        sample.captured = captured;
        if (bpf_skb_load_bytes(skb, 0, sample.header, captured) < 0 ||
            bpf_ringbuf_output(&samples, &sample, sizeof(sample), 0) < 0) {
            __sync_fetch_and_add(&samples_lost, 1);
            return TC_ACT_OK;
        }
        __sync_fetch_and_add(&samples_output, 1);
    }
    return TC_ACT_OK;
}

char LICENSE[] SEC("license") = "GPL";
