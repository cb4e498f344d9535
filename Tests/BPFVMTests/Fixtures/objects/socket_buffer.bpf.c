// __sk_buff as TC and socket filters see it: every field the tests check is copied into
// `fields` (by index, see the test), the writable ones are written, and skb_load_bytes and
// skb_store_bytes copy packet bytes through the stack.
#include "vm_object.h"

struct {
    __uint(type, BPF_MAP_TYPE_ARRAY);
    __uint(max_entries, 16);
    __type(key, __u32);
    __type(value, __u64);
} fields SEC(".maps");

static __attribute__((always_inline)) void keep(__u32 index, __u64 value) {
    bpf_map_update_elem(&fields, &index, &value, BPF_ANY);
}

// The legacy packet load (ld_abs), as the kernel's samples reach it.
unsigned long long load_byte(void *skb, unsigned long long offset) asm("llvm.bpf.load.byte");

long load_result = 1, store_result = 1, bad_load_result = 1;
unsigned char loaded[4];

SEC("tc")
int classify(struct __sk_buff *skb) {
    keep(0, skb->len);
    keep(1, skb->protocol);
    keep(2, skb->pkt_type);
    keep(3, skb->ifindex);
    keep(4, (void *)(long)skb->data_end - (void *)(long)skb->data);
    keep(5, skb->mark);
    keep(6, *(__u8 *)((char *)skb + 16));          // a one-byte read of protocol
    skb->mark = 0x5a5a;
    skb->priority = 7;
    skb->cb[2] = 0x1234;
    skb->tc_index = 3;
    keep(7, skb->mark + skb->cb[2]);
    unsigned char bytes[4];
    load_result = bpf_skb_load_bytes(skb, 12, bytes, 4);
    __builtin_memcpy(loaded, bytes, 4);
    bad_load_result = bpf_skb_load_bytes(skb, skb->len - 2, bytes, 4);
    unsigned char marker[2] = {0xde, 0xad};
    store_result = bpf_skb_store_bytes(skb, 0, marker, 2, 0);
    void *data = (void *)(long)skb->data;
    void *end = (void *)(long)skb->data_end;
    if (data + 14 > end)
        return TC_ACT_SHOT;
    return ((unsigned char *)data)[1] == 0xad ? TC_ACT_OK : TC_ACT_SHOT;
}

SEC("socket")
int filter(struct __sk_buff *skb) {
    keep(8, skb->len);
    keep(9, skb->protocol);
    // ld_abs reads from the network header: the IPv4 version nibble.
    keep(10, load_byte(skb, 0) >> 4);
    return skb->len > 40 ? 40 : skb->len;
}

char LICENSE[] SEC("license") = "GPL";
