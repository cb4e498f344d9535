// What the tracing tools' programs share: the kernel structures they read (only the fields
// used, relocated by CO-RE against the running kernel). events.h and histogram.h add the
// two ways tools report: events through a ring buffer, or a log2 histogram.
#ifndef SWIFTBPF_TOOLS_H
#define SWIFTBPF_TOOLS_H

#include <swiftbpf/helpers.h>

#define TASK_COMM_LEN 16

struct trace_event_raw_sys_enter {
    long id;
    unsigned long args[6];
} __attribute__((preserve_access_index));

struct trace_event_raw_sys_exit {
    long id;
    long ret;
} __attribute__((preserve_access_index));

struct task_struct {
    unsigned int __state;
    int pid;
    int tgid;
    int exit_code;
    __u64 start_time;
    struct task_struct *real_parent;
} __attribute__((preserve_access_index));

/// The registers a uprobe or uretprobe sees (struct pt_regs): the return value and the
/// first argument, per architecture.
#if defined(__TARGET_ARCH_x86)
struct pt_regs {
    unsigned long r15, r14, r13, r12, bp, bx, r11, r10, r9, r8;
    unsigned long ax, cx, dx, si, di, orig_ax, ip, cs, flags, sp, ss;
};
#define RETURN_VALUE(registers) ((registers)->ax)
#elif defined(__TARGET_ARCH_arm64)
struct pt_regs {
    unsigned long regs[31];
    unsigned long sp, pc, pstate;
};
#define RETURN_VALUE(registers) ((registers)->regs[0])
#else
#error "uprobe registers are written out for x86-64 and arm64 only"
#endif

/// sock:inet_sock_set_state: a TCP (or other inet) socket changed state.
struct trace_event_raw_inet_sock_set_state {
    const void *skaddr;
    int oldstate;
    int newstate;
    __u16 sport;
    __u16 dport;
    __u16 family;
    __u16 protocol;
    __u8 saddr[4];
    __u8 daddr[4];
    __u8 saddr_v6[16];
    __u8 daddr_v6[16];
} __attribute__((preserve_access_index));

/// The byte counts of a TCP connection (RFC 4898's octets acked and received).
struct tcp_sock {
    __u64 bytes_received;
    __u64 bytes_acked;
} __attribute__((preserve_access_index));

#define AF_INET 2
#define AF_INET6 10
#define IPPROTO_TCP 6
#define TCP_ESTABLISHED 1
#define TCP_SYN_SENT 2
#define TCP_FIN_WAIT1 4
#define TCP_CLOSE 7
#define TCP_LAST_ACK 9

/// The addresses and ports of a state change, as the tools send them: IPv4 addresses in the
/// first 4 bytes of the 16. TcpConnection.swift reads the same layout.
struct tcp_endpoints {
    __u16 family;
    __u16 local_port;
    __u16 remote_port;
    __u16 padding;
    __u8 local_address[16];
    __u8 remote_address[16];
};

static __always_inline void read_endpoints(struct trace_event_raw_inet_sock_set_state *context, struct tcp_endpoints *endpoints)
{
    endpoints->family = context->family;
    endpoints->local_port = context->sport;
    endpoints->remote_port = context->dport;
    if (context->family == AF_INET) {
        bpf_probe_read_kernel(endpoints->local_address, 4, context->saddr);
        bpf_probe_read_kernel(endpoints->remote_address, 4, context->daddr);
    } else {
        bpf_probe_read_kernel(endpoints->local_address, 16, context->saddr_v6);
        bpf_probe_read_kernel(endpoints->remote_address, 16, context->daddr_v6);
    }
}

#endif
