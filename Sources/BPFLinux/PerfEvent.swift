#if os(Linux)
import CBPFLinux
import Glibc

/// A perf event that a `perf_event` program samples: a software or hardware counter, or
/// any PMU's event by type and config.
public struct PerfEvent: Sendable, Hashable, CustomStringConvertible {
    /// `perf_event_attr.type`: 0 hardware, 1 software, or a dynamic PMU's type.
    public var type: UInt32
    public var config: UInt64

    public init(type: UInt32, config: UInt64) {
        self.type = type
        self.config = config
    }

    /// Counters the kernel keeps itself (`PERF_TYPE_SOFTWARE`).
    public enum SoftwareCounter: UInt64, Sendable, Hashable {
        case cpuClock = 0, taskClock, pageFaults, contextSwitches, cpuMigrations, minorPageFaults, majorPageFaults
        case alignmentFaults, emulationFaults, dummy, bpfOutput, cgroupSwitches
    }

    /// The CPU's generalized counters (`PERF_TYPE_HARDWARE`); need a PMU, which virtual
    /// machines often lack.
    public enum HardwareCounter: UInt64, Sendable, Hashable {
        case cpuCycles = 0, instructions, cacheReferences, cacheMisses, branchInstructions, branchMisses
        case busCycles, stalledCyclesFrontend, stalledCyclesBackend, referenceCPUCycles
    }

    public static func software(_ counter: SoftwareCounter) -> PerfEvent {
        PerfEvent(type: PERF_TYPE_SOFTWARE.rawValue, config: counter.rawValue)
    }

    public static func hardware(_ counter: HardwareCounter) -> PerfEvent {
        PerfEvent(type: PERF_TYPE_HARDWARE.rawValue, config: counter.rawValue)
    }

    public var description: String {
        if type == PERF_TYPE_SOFTWARE.rawValue, let counter = SoftwareCounter(rawValue: config) { return "software \(counter)" }
        if type == PERF_TYPE_HARDWARE.rawValue, let counter = HardwareCounter(rawValue: config) { return "hardware \(counter)" }
        return "perf event type \(type) config 0x\(String(config, radix: 16))"
    }
}

/// How often a sampling event fires.
public enum PerfSampling: Sendable, Hashable {
    /// About this many samples per second; the kernel adapts the period
    /// (capped by /proc/sys/kernel/perf_event_max_sample_rate).
    case frequency(UInt64)
    /// One sample every this many events (nanoseconds for the clock counters).
    case period(UInt64)
}

/// Where a perf event counts.
public enum PerfEventScope: Sendable, Hashable {
    /// Every process, on each online CPU: one event per CPU.
    case allCPUs
    /// Every process, on these CPUs.
    case cpus([Int])
    /// One thread, by its id, on whichever CPU it runs (a process id names the process's
    /// main thread; perf events follow threads, not whole processes).
    case thread(Int32)
}

/// perf_event_open(2) with close-on-exec, its errors explained.
func openPerfEvent(_ attr: inout perf_event_attr, pid: Int32, cpu: Int32, hook: String) throws(BPFError) -> FileDescriptor {
    attr.size = UInt32(MemoryLayout<perf_event_attr>.size)
    while true {
        let fd = swiftbpf_perf_event_open(&attr, pid, cpu, -1, SWIFTBPF_PERF_FLAG_FD_CLOEXEC)
        if fd >= 0 { return FileDescriptor(owning: fd) }
        let code = swiftbpf_errno()
        if code == EINTR { continue }
        throw BPFError(operation: "perf_event_open", errno: code, subject: hook, detail: perfEventCause(code, attr: attr, pid: pid))
    }
}

@inline(never)
private func perfEventCause(_ code: Int32, attr: perf_event_attr, pid: Int32) -> String? {
    switch code {
    case EACCES, EPERM:
        let paranoid = (try? KernelFile.text("/proc/sys/kernel/perf_event_paranoid")).map { KernelFile.trimmed($0) } ?? "?"
        return "not permitted: needs CAP_PERFMON or CAP_SYS_ADMIN (kernel.perf_event_paranoid is \(paranoid))"
    case ENOENT where attr.type == PERF_TYPE_HARDWARE.rawValue, EOPNOTSUPP where attr.type == PERF_TYPE_HARDWARE.rawValue:
        return "the CPU has no such hardware counter, or no PMU is exposed (common in virtual machines); use a software event such as cpuClock"
    case ENOENT:
        return "the kernel does not know this event (type \(attr.type), config \(attr.config))"
    case ESRCH:
        return "no process \(pid)"
    case ENODEV:
        return "the CPU is offline or has no PMU for this event type"
    case EINVAL where attr.freq != 0:
        let limit = (try? KernelFile.text("/proc/sys/kernel/perf_event_max_sample_rate")).map { KernelFile.trimmed($0) } ?? "?"
        return "the kernel refused the event: a frequency above kernel.perf_event_max_sample_rate (\(limit)), or an unknown type or config"
    case EINVAL:
        return "the kernel refused the event's attributes (type \(attr.type), config 0x\(String(attr.config, radix: 16)))"
    case EMFILE:
        return "the process has run out of file descriptors (one perf event per CPU is opened)"
    default:
        return nil
    }
}
#endif
