// Events to user space: each getpgid(pid) call of the test process sends one record
// {tgid, sequence number, pid argument} through a ring buffer (ring_getpgid) or a perf
// event array (perf_getpgid). The sequence number counts calls per program (slots 0, 1).
#include "attach_helpers.h"

struct getpgid_arguments {
    __u64 common;
    __s32 syscall;
    __u32 padding;
    __u64 pid;
};

struct event {
    __u32 tgid;
    __u32 sequence;
    __u64 pid;
    __u64 marker;
};

struct {
    __uint(type, BPF_MAP_TYPE_RINGBUF);
    __uint(max_entries, 256 * 1024);
} ring SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_PERF_EVENT_ARRAY);
    __uint(key_size, sizeof(__u32));
    __uint(value_size, sizeof(__u32));
} perf SEC(".maps");

static __inline __u32 next_sequence(__u32 slot) {
    __u64 *value = bpf_map_lookup_elem(&counts, &slot);
    return value ? (__u32)__sync_fetch_and_add(value, 1) : 0;
}

SEC("tracepoint/syscalls/sys_enter_getpgid")
int ring_getpgid(struct getpgid_arguments *arguments) {
    if (!is_target()) return 0;
    struct event *event = bpf_ringbuf_reserve(&ring, sizeof(struct event), 0);
    if (!event) return 0;
    event->tgid = bpf_get_current_pid_tgid() >> 32;
    event->sequence = next_sequence(0);
    event->pid = arguments->pid;
    event->marker = 0x5357494654425046ULL; // "SWIFTBPF"
    bpf_ringbuf_submit(event, 0);
    return 0;
}

SEC("tracepoint/syscalls/sys_enter_getpgid")
int perf_getpgid(struct getpgid_arguments *arguments) {
    if (!is_target()) return 0;
    struct event event = {
        .tgid = bpf_get_current_pid_tgid() >> 32,
        .sequence = next_sequence(1),
        .pid = arguments->pid,
        .marker = 0x5357494654425046ULL,
    };
    bpf_perf_event_output(arguments, &perf, BPF_F_CURRENT_CPU, &event, sizeof(event));
    return 0;
}
