#if os(Linux)
import BPFObject
import CBPFLinux
import Glibc

extension Link {
    /// Attaches a `tracepoint` program to tracepoint `category:name` (e.g. "syscalls",
    /// "sys_enter_openat"), for every process: a perf event of type PERF_TYPE_TRACEPOINT with
    /// the id from tracefs, given the program through a bpf_link or the ioctl.
    public static func tracepoint(_ category: String, _ name: String, program: some AttachableProgram,
                                  mode: PerfAttachMode = .automatic) throws(BPFError) -> Link {
        let hook = "tracepoint \(category)/\(name)"
        let id = try Tracefs.tracepointID(category: category, name: name)
        var attr = perf_event_attr()
        attr.type = PERF_TYPE_TRACEPOINT.rawValue
        attr.config = id
        attr.sample_period = 1
        attr.wakeup_events = 1
        attr.disabled = 1
        // pid -1 with one CPU: a tracepoint's program runs on every CPU regardless.
        let event = try openPerfEvent(&attr, pid: -1, cpu: 0, hook: hook)
        let attachment = try attachProgram(program.programDescriptor, toPerfEvent: event, mode: mode, hook: hook,
                                           expected: [.tracepoint])
        return Link(hook: hook, attachments: [attachment])
    }

    /// `tracepoint("syscalls/sys_enter_openat")`: the target as a `SEC("tracepoint/...")`
    /// section names it.
    public static func tracepoint(_ target: String, program: some AttachableProgram,
                                  mode: PerfAttachMode = .automatic) throws(BPFError) -> Link {
        let parts = target.split(separator: "/", maxSplits: 1, omittingEmptySubsequences: false)
        guard parts.count == 2 else {
            throw BPFError(operation: "tracepoint", errno: EINVAL, subject: target,
                           detail: "a tracepoint target is 'category/name', e.g. 'syscalls/sys_enter_openat'")
        }
        return try tracepoint(String(parts[0]), String(parts[1]), program: program, mode: mode)
    }

    /// Attaches a `raw_tracepoint` program to raw tracepoint `name` (e.g. "sys_enter",
    /// "sched_switch"): BPF_RAW_TRACEPOINT_OPEN, which returns a bpf_link.
    public static func rawTracepoint(_ name: String, program: some AttachableProgram) throws(BPFError) -> Link {
        let hook = "raw tracepoint \(name)"
        let programFD = program.programDescriptor
        do throws(BPFError) {
            let cName = try OwnedCString(name, for: "BPF_RAW_TRACEPOINT_OPEN")
            var attr = zeroedAttributes()
            attr.raw_tracepoint.name = cName.address
            attr.raw_tracepoint.prog_fd = UInt32(bitPattern: programFD.rawValue)
            let fd = try bpf(BPF_RAW_TRACEPOINT_OPEN, &attr, name: "BPF_RAW_TRACEPOINT_OPEN", subject: hook)
            return Link(hook: hook, attachments: [.link(FileDescriptor(owning: fd))])
        } catch {
            throw AttachFailure.explain(error, hook: hook, program: programFD,
                                        expected: [.rawTracepoint, .rawTracepointWritable, .tracing]) { code in
                code == ENOENT ? "no raw tracepoint named '\(name)' (the kernel's tracepoints are listed in tracefs available_events, without the category)" : nil
            }
        }
    }
}
#endif
