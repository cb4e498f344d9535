// bashreadline: the command lines typed into bash, from a uretprobe on readline(), whose
// return value is the line just read. Attached by BashReadline.swift (the binary is an option).
// Layout of struct line_event: BashReadline.swift decodes the same offsets.
#include "events.h"

struct line_event {
    __u32 pid;
    char line[256];
};

SEC("uretprobe")
int bashreadline_return(struct pt_regs *registers)
{
    const char *line = (const char *)RETURN_VALUE(registers);
    if (!line)
        return 0;
    struct line_event *event = reserve_event(sizeof(*event));
    if (!event)
        return 0;
    event->pid = bpf_get_current_pid_tgid() >> 32;
    bpf_probe_read_user_str(event->line, sizeof(event->line), line);
    submit_event(event);
    return 0;
}

char LICENSE[] SEC("license") = "GPL";
