#if os(Linux)
import BPFObject
import CBPFLinux
import Glibc

extension Link {
    /// Attaches a `perf_event` program to `event`, sampled as `sampling` says, on every CPU
    /// of `scope` (one perf event per CPU) or in one process.
    public static func perfEvent(_ event: PerfEvent, sampling: PerfSampling, scope: PerfEventScope = .allCPUs,
                                 program: some AttachableProgram, mode: PerfAttachMode = .automatic) throws(BPFError) -> Link {
        let hook = "perf event \(event)"
        var attr = perf_event_attr()
        attr.type = event.type
        attr.config = event.config
        attr.disabled = 1
        switch sampling {
        case .frequency(let hertz):
            guard hertz > 0 else {
                throw BPFError(operation: "perf_event_open", errno: EINVAL, subject: hook, detail: "a sampling frequency must be above 0")
            }
            attr.freq = 1
            attr.sample_freq = hertz
        case .period(let period):
            guard period > 0 else {
                throw BPFError(operation: "perf_event_open", errno: EINVAL, subject: hook, detail: "a sampling period must be above 0")
            }
            attr.sample_period = period
        }
        var targets: [(pid: Int32, cpu: Int32)] = []
        switch scope {
        case .allCPUs: for cpu in try KernelFile.onlineCPUs() { targets.append((-1, Int32(cpu))) }
        case .cpus(let cpus): for cpu in cpus { targets.append((-1, Int32(clamping: cpu))) }
        case .thread(let id): targets = [(id, -1)]
        }
        guard !targets.isEmpty else {
            throw BPFError(operation: "perf_event_open", errno: EINVAL, subject: hook, detail: "no CPUs to sample on")
        }
        var attachments: [Attachment] = []
        do throws(BPFError) {
            for target in targets {
                let where_ = target.pid >= 0 ? "thread \(target.pid)" : "CPU \(target.cpu)"
                let fd = try openPerfEvent(&attr, pid: target.pid, cpu: target.cpu, hook: "\(hook) on \(where_)")
                attachments.append(try attachProgram(program.programDescriptor, toPerfEvent: fd, mode: mode,
                                                     hook: "\(hook) on \(where_)", expected: [.perfEvent]))
            }
        } catch {
            Link(hook: hook, attachments: attachments).close()
            throw error
        }
        return Link(hook: hook, attachments: attachments)
    }

    /// Gives the perf event `event` (opened disabled) the program, through a bpf_link or the
    /// ioctl as `mode` says, then enables it. Closes `event` on failure.
    static func attachProgram(_ program: FileDescriptor, toPerfEvent event: FileDescriptor, mode: PerfAttachMode,
                              hook: String, expected: [ProgramType],
                              cause: (Int32) -> String? = { _ in nil }) throws(BPFError) -> Attachment {
        var link: FileDescriptor?
        do throws(BPFError) {
            if mode != .ioctl {
                do {
                    link = try SystemCall.createLink(program: program.rawValue, target: UInt32(bitPattern: event.rawValue),
                                                     attachType: AttachType.perfEvent.rawValue)
                } catch where mode == .automatic && [EINVAL, EOPNOTSUPP, ENOTSUPP].contains(error.errno) {
                    // Kernels before 5.15 have no perf-event links; the ioctl says the same
                    // thing when the real problem is the program.
                    link = nil
                }
            }
            if link == nil {
                guard swiftbpf_ioctl(event.rawValue, SWIFTBPF_PERF_EVENT_IOC_SET_BPF, UInt(bitPattern: Int(program.rawValue))) == 0 else {
                    throw BPFError(operation: "ioctl(PERF_EVENT_IOC_SET_BPF)", errno: swiftbpf_errno(), subject: hook)
                }
            }
            guard swiftbpf_ioctl(event.rawValue, SWIFTBPF_PERF_EVENT_IOC_ENABLE, 0) == 0 else {
                throw BPFError(operation: "ioctl(PERF_EVENT_IOC_ENABLE)", errno: swiftbpf_errno(), subject: hook)
            }
        } catch {
            link?.close()
            event.close()
            throw AttachFailure.explain(error, hook: hook, program: program, expected: expected) { code in
                if code == EEXIST { return "the perf event already has a program" }
                return cause(code)
            }
        }
        return .perfEvent(event, link: link)
    }
}
#endif
