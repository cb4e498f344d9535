#ifndef SWIFTBPF_HISTOGRAM_H
#define SWIFTBPF_HISTOGRAM_H

#include "tools.h"

/// A log2 histogram as bcc's tools keep it: slot i counts the values that need i bits
/// (values 0 and 1 go to slot 1), 65 slots for 64-bit values. Log2Histogram.swift reads it.
#define HISTOGRAM_SLOTS 65

struct {
    __uint(type, BPF_MAP_TYPE_ARRAY);
    __uint(max_entries, HISTOGRAM_SLOTS);
    __type(key, __u32);
    __type(value, __u64);
} histogram SEC(".maps");

static __always_inline void histogram_add(__u64 value)
{
    __u32 slot = 1;
    if (value >> 32) { value >>= 32; slot += 32; }
    if (value >> 16) { value >>= 16; slot += 16; }
    if (value >> 8) { value >>= 8; slot += 8; }
    if (value >> 4) { value >>= 4; slot += 4; }
    if (value >> 2) { value >>= 2; slot += 2; }
    if (value >> 1) { slot += 1; }
    __u64 *count = bpf_map_lookup_elem(&histogram, &slot);
    if (count)
        __sync_fetch_and_add(count, 1);
}

#endif
