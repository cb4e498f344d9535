// hello.bpf.c — the first eBPF program: each time any process on the machine calls
// openat(2), tell user space who it was and which file it asked for.
//
// This file runs inside the kernel. The BPFCompilerPlugin compiles it with clang
// (-target bpf -O2 -g) while `swift build` runs, and generates HelloSkeleton, the Swift
// class that loads it, attaches it and hands over its maps (see main.swift beside it).
// `swiftbpf hello` runs this same program.
#include <swiftbpf/helpers.h>

// What the tracepoint hands the program: the system call's number and its six arguments
// (see /sys/kernel/tracing/events/syscalls/sys_enter_openat/format). Only the fields we
// read are declared; preserve_access_index makes clang record every access to them, and
// the loader fixes their offsets to the running kernel's layout (CO-RE), so the program
// runs on kernels other than the one it was built on.
struct trace_event_raw_sys_enter {
    long id;
    unsigned long args[6];
} __attribute__((preserve_access_index));

// One event sent to user space. main.swift reads the same layout.
struct event {
    __u32 pid;          // the process (thread group) id
    __u32 uid;          // its user id
    char comm[16];      // its command name
    char path[256];     // the path it passed to openat(2)
};

// The channel to user space: a ring buffer of 256 KiB that the kernel writes and user
// space reads through shared memory.
struct {
    __uint(type, BPF_MAP_TYPE_RINGBUF);
    __uint(max_entries, 256 * 1024);
} events SEC(".maps");

// Events that found the ring buffer full. A global variable: user space reads it through
// the skeleton (globals.lost_events) and reports it, so no event goes missing silently.
__u64 lost_events;

// SEC names the hook: the program runs at the tracepoint syscalls:sys_enter_openat, i.e.
// when a process enters openat(2), before the kernel has done anything with the arguments.
SEC("tracepoint/syscalls/sys_enter_openat")
int hello_openat(struct trace_event_raw_sys_enter *context)
{
    // Room for one event in the ring buffer; none when user space has fallen behind.
    struct event *event = bpf_ringbuf_reserve(&events, sizeof(*event), 0);
    if (!event) {
        __sync_fetch_and_add(&lost_events, 1);
        return 0;
    }
    // The upper half of pid_tgid is what user space calls the pid.
    event->pid = bpf_get_current_pid_tgid() >> 32;
    event->uid = (__u32)bpf_get_current_uid_gid();
    bpf_get_current_comm(event->comm, sizeof(event->comm));
    // openat(dirfd, pathname, flags, mode): the path is the second argument, a pointer into
    // the process's memory, so it is copied with the helper that may fault safely.
    bpf_probe_read_user_str(event->path, sizeof(event->path), (const char *)context->args[1]);
    bpf_ringbuf_submit(event, 0);
    return 0;
}

// The kernel lets only GPL-compatible programs call some of the helpers used above.
char LICENSE[] SEC("license") = "GPL";
