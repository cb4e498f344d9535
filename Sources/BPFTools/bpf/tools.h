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

#endif
