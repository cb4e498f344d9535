// trace_printk, snprintf and strncmp from an XDP program: the formatted text goes to the
// host's trace sink and into .bss, the comparisons' results too.
#include "vm_object.h"

char text[32] = {};
long printed = 0, formatted = 0, equal = 1, less = 0, greater = 0, bad_format = 0;
__u64 pid_tgid = 0, now = 0;
__u32 random1 = 0, random2 = 0, processor = 7;

SEC("xdp")
int strings(struct xdp_md *ctx) {
    const char format[] = "len=%d x=%x s=%s";
    const char name[] = "vm";
    long length = (void *)(long)ctx->data_end - (void *)(long)ctx->data;
    printed = bpf_trace_printk(format, sizeof(format), length, 255, name);
    static const char snformat[] = "%u-%lx-%05d|%-3s|";
    __u64 args[4] = {42, 0xbeef, -12, (__u64)(long)name};
    formatted = bpf_snprintf(text, sizeof(text), snformat, args, sizeof(args));
    static const char badformat[] = "%q";
    bad_format = bpf_snprintf(text + 20, 4, badformat, args, 8);
    char word[4] = "abc";
    equal = bpf_strncmp(word, 4, "abc");
    less = bpf_strncmp(word, 4, "abd");
    greater = bpf_strncmp(word, 4, "ab");
    pid_tgid = bpf_get_current_pid_tgid();
    now = bpf_ktime_get_ns();
    random1 = bpf_get_prandom_u32();
    random2 = bpf_get_prandom_u32();
    processor = bpf_get_smp_processor_id();
    return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
