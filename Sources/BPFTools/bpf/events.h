// The ring buffer event tools report through, and the count of events it had no room for
// (EventTracer.swift reads both).
#ifndef SWIFTBPF_EVENTS_H
#define SWIFTBPF_EVENTS_H

#include "tools.h"

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
