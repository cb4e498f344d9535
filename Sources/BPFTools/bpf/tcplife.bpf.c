// tcplife: TCP sessions when they close, with their endpoints, bytes each way and
// duration, from the sock:inet_sock_set_state tracepoint. The process is the one that
// connected (SYN_SENT) or closed (FIN_WAIT1, LAST_ACK) — state changes in process context;
// others happen in softirq, where the current task is unrelated.
// Layout of struct session_event: TcpLife.swift decodes the same offsets.
#include "events.h"

const volatile __s32 target_pid = 0;     // 0: every process
const volatile __u16 local_port = 0;     // 0: any
const volatile __u16 remote_port = 0;    // 0: any

struct owner {
    __u32 pid;
    char comm[TASK_COMM_LEN];
};

struct session_event {
    __u64 duration_ns;
    __u64 bytes_sent;           // acknowledged by the peer
    __u64 bytes_received;
    __u32 pid;
    __u32 padding;
    struct tcp_endpoints endpoints;
    char comm[TASK_COMM_LEN];
};

struct {
    __uint(type, BPF_MAP_TYPE_HASH);
    __uint(max_entries, 10240);
    __type(key, __u64);
    __type(value, __u64);
} births SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_HASH);
    __uint(max_entries, 10240);
    __type(key, __u64);
    __type(value, struct owner);
} owners SEC(".maps");

SEC("tracepoint/sock/inet_sock_set_state")
int tcplife_change(struct trace_event_raw_inet_sock_set_state *context)
{
    if (context->protocol != IPPROTO_TCP)
        return 0;
    __u64 socket = (__u64)context->skaddr;
    int state = context->newstate;
    if (state < TCP_FIN_WAIT1 && !bpf_map_lookup_elem(&births, &socket)) {
        __u64 now = bpf_ktime_get_ns();
        bpf_map_update_elem(&births, &socket, &now, BPF_ANY);
    }
    if (state == TCP_SYN_SENT || state == TCP_FIN_WAIT1 || state == TCP_LAST_ACK) {
        struct owner owner = { .pid = bpf_get_current_pid_tgid() >> 32 };
        bpf_get_current_comm(owner.comm, sizeof(owner.comm));
        bpf_map_update_elem(&owners, &socket, &owner, BPF_ANY);
    }
    if (state != TCP_CLOSE)
        return 0;

    __u64 *birth = bpf_map_lookup_elem(&births, &socket);
    struct owner *owner = bpf_map_lookup_elem(&owners, &socket);
    if (!birth)
        goto forget;   // born before tracing began: its duration is unknown
    if (local_port && context->sport != local_port)
        goto forget;
    if (remote_port && context->dport != remote_port)
        goto forget;
    __u32 pid = owner ? owner->pid : bpf_get_current_pid_tgid() >> 32;
    if (target_pid && pid != target_pid)
        goto forget;
    struct session_event *event = reserve_event(sizeof(*event));
    if (!event)
        goto forget;
    struct tcp_sock *tcp = (struct tcp_sock *)context->skaddr;
    event->duration_ns = bpf_ktime_get_ns() - *birth;
    event->bytes_sent = CORE_READ(tcp->bytes_acked);
    event->bytes_received = CORE_READ(tcp->bytes_received);
    event->pid = pid;
    read_endpoints(context, &event->endpoints);
    if (owner)
        __builtin_memcpy(event->comm, owner->comm, sizeof(event->comm));
    else
        bpf_get_current_comm(event->comm, sizeof(event->comm));
    submit_event(event);
forget:
    bpf_map_delete_elem(&births, &socket);
    bpf_map_delete_elem(&owners, &socket);
    return 0;
}

char LICENSE[] SEC("license") = "GPL";
