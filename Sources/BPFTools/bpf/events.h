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

/// Wake the reader only once 64 KiB of events wait: at high rates a wake-up per event (two
/// context switches) costs more than the event. The reader polls at least every 100 ms,
/// which bounds how late a quiet event shows.
static __always_inline __u64 event_wakeup_flags(void)
{
    return bpf_ringbuf_query(&events, BPF_RB_AVAIL_DATA) >= 64 * 1024 ? BPF_RB_FORCE_WAKEUP : BPF_RB_NO_WAKEUP;
}

static __always_inline void submit_event(void *event)
{
    bpf_ringbuf_submit(event, event_wakeup_flags());
}

#endif
