// Object-file fixture: bpf-to-bpf calls. Static and global subprograms in .text, nested
// calls, two programs sharing a subprogram in different orders (libbpf appends callees
// depth first in order of first call), a callback passed to bpf_loop (a function address),
// two entry points in one section, and an exception callback named by a BTF decl tag
// (appended after the callees). ObjectLinkingTests checks the linked layout.
#include "swiftbpf_helpers.h"

int shared_total;

static __noinline int leaf(int x) { return x * 3 + shared_total; }
static __noinline int sub_a(int x) { return leaf(x) + 1; }
__noinline int sub_c(int x) { return leaf(x + 1) * 2; }
__noinline int global_sub(int x) { return sub_a(x) - sub_c(x); }
__noinline int unused_sub(int x) { return x - 1; }  // linked into no program

static int loop_body(__u32 index, void *ctx) {
    *(int *)ctx += index;
    return 0;
}

SEC("kprobe/do_nanosleep") int main_a(void *ctx) {
    return sub_a(1) + global_sub(2);
}

SEC("kprobe/do_nanosleep") int main_b(void *ctx) {
    return sub_c(3);
}

SEC("tp/syscalls/sys_enter_write") int main_loop(void *ctx) {
    int sum = 0;
    bpf_loop(10, loop_body, &sum, 0);
    return sum + leaf(sum);
}

SEC("xdp") int main_plain(struct xdp_md *ctx) { return 2; }

__noinline int exception_cb(__u64 cookie) { return (int)cookie + 1; }

__attribute__((btf_decl_tag("exception_callback:exception_cb")))
SEC("tc") int main_exception(struct __sk_buff *skb) { return leaf(skb->len); }

char LICENSE[] SEC("license") = "GPL";
