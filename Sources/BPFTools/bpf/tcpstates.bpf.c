// tcpstates: every TCP state change, with the time spent in the previous state, from the
// sock:inet_sock_set_state tracepoint (bcc uses the same).
// Layout of struct state_event: TcpStates.swift decodes the same offsets.
#include "events.h"

const volatile __u16 local_port = 0;     // 0: any
const volatile __u16 remote_port = 0;    // 0: any

struct state_event {
    __u64 socket;               // the struct sock's address, to tell sockets apart
    __u64 previous_state_ns;    // time in the old state; 0 when not seen entering it
    __u32 pid;
    __s32 old_state;
    __s32 new_state;
    __u32 padding;
    struct tcp_endpoints endpoints;
    char comm[TASK_COMM_LEN];
};

struct {
    __uint(type, BPF_MAP_TYPE_HASH);
    __uint(max_entries, 10240);
    __type(key, __u64);
    __type(value, __u64);
} last_change SEC(".maps");

SEC("tracepoint/sock/inet_sock_set_state")
int tcpstates_change(struct trace_event_raw_inet_sock_set_state *context)
{
    if (context->protocol != IPPROTO_TCP)
        return 0;
    if (local_port && context->sport != local_port)
        return 0;
    if (remote_port && context->dport != remote_port)
        return 0;
    __u64 socket = (__u64)context->skaddr;
    __u64 now = bpf_ktime_get_ns();
    __u64 *last = bpf_map_lookup_elem(&last_change, &socket);
    __u64 previous = last ? now - *last : 0;
    struct state_event *event = reserve_event(sizeof(*event));
    if (event) {
        event->socket = socket;
        event->previous_state_ns = previous;
        event->pid = bpf_get_current_pid_tgid() >> 32;
        event->old_state = context->oldstate;
        event->new_state = context->newstate;
        read_endpoints(context, &event->endpoints);
        bpf_get_current_comm(event->comm, sizeof(event->comm));
        submit_event(event);
    }
    if (context->newstate == TCP_CLOSE)
        bpf_map_delete_elem(&last_change, &socket);
    else
        bpf_map_update_elem(&last_change, &socket, &now, BPF_ANY);
    return 0;
}

char LICENSE[] SEC("license") = "GPL";
