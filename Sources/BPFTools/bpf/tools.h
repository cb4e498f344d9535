// What the tracing tools' programs share: the kernel structures they read (only the fields
// used, relocated by CO-RE against the running kernel), the ring buffer they report
// through, and the count of events it had no room for.
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
    int pid;
    int tgid;
    int exit_code;
    __u64 start_time;
    struct task_struct *real_parent;
} __attribute__((preserve_access_index));

struct {
    __uint(type, BPF_MAP_TYPE_RINGBUF);
    __uint(max_entries, 1024 * 1024);
} events SEC(".maps");

/// Events lost because the ring buffer was full; user space shows the count.
__u64 lost_events;

static __always_inline void *reserve_event(__u64 size)
{
    void *event = bpf_ringbuf_reserve(&events, size, 0);
    if (!event)
        __sync_fetch_and_add(&lost_events, 1);
    return event;
}

#endif
