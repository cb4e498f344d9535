// Object-file fixture: global data. Initialised (.data), read-only (.rodata, const
// volatile), zeroed (.bss), static and hidden variables, custom .data.* / .rodata.*
// sections, and a string literal (.rodata.str1.1). ObjectGlobalsTests checks the data maps,
// their initial contents and every variable's offset, size and BTF type.
#include "swiftbpf_helpers.h"

struct config { __u32 mode; __u16 port; __u8 flags[2]; };

int counter = 42;
__u64 table[4] = { 1, 2, 3, 4 };
const volatile struct config config = { .mode = 7, .port = 8080, .flags = { 1, 2 } };
const volatile __u32 limit = 1000;
__u64 hits;
__u32 histogram[16];
static __u32 static_counter;
__hidden int hidden_value = 5;
int custom_data SEC(".data.custom") = 9;
const volatile int custom_ro SEC(".rodata.custom") = 11;

static __noinline int bump(int index) {
    histogram[index & 15]++;
    static_counter += 2;
    return table[index & 3];
}

SEC("xdp") int use_globals(struct xdp_md *ctx) {
    if (config.mode != 7) return 0;
    counter++;
    hits += limit;
    char message[] = "hits %d";
    bpf_trace_printk(message, sizeof(message), hits);
    bpf_trace_printk("literal %d\n", 12, counter);
    return bump(ctx->ingress_ifindex) + hidden_value + custom_data + custom_ro + config.port + table[3];
}

char LICENSE[] SEC("license") = "GPL";
