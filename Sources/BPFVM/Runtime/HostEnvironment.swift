#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import BPFVerifier

/// What the host lends the programs it runs: the task they run for, where trace_printk
/// writes, the clock, the processor number, random numbers, and helpers of its own.
public struct HostEnvironment: Sendable {
    /// The "current task" that get_current_pid_tgid, get_current_uid_gid and get_current_comm
    /// report; without one they fail as the kernel's do without a task (-EINVAL).
    public struct Task: Sendable, Hashable {
        public var pid: UInt32
        public var tgid: UInt32
        public var uid: UInt32
        public var gid: UInt32
        /// Up to 15 bytes are seen, as the kernel's TASK_COMM_LEN of 16 keeps.
        public var comm: String

        public init(pid: UInt32, tgid: UInt32, uid: UInt32 = 0, gid: UInt32 = 0, comm: String) {
            self.pid = pid
            self.tgid = tgid
            self.uid = uid
            self.gid = gid
            self.comm = comm
        }
    }

    /// A helper of the host's own, with the prototype the verifier checks calls against.
    public struct HostHelper: Sendable {
        public var helper: Helper
        public var prototype: HelperPrototype

        public init(_ helper: Helper, prototype: HelperPrototype) {
            self.helper = helper
            self.prototype = prototype
        }
    }

    public var task: Task?
    /// Receives each line trace_printk formats (the kernel writes them to trace_pipe).
    public var trace: @Sendable (String) -> Void
    /// ktime_get_ns and ktime_get_boot_ns: nanoseconds of a monotonic clock.
    public var clock: @Sendable () -> UInt64
    /// What get_smp_processor_id returns, and the CPU whose slot per-CPU maps use.
    public var processor: Int
    /// Seeds get_prandom_u32 (each loaded program keeps its own generator); nil seeds from the clock.
    public var randomSeed: UInt64?
    /// Helpers of the host's own; an id here replaces the kernel helper of that id.
    public var helpers: [HostHelper]

    public init(task: Task? = nil, trace: @escaping @Sendable (String) -> Void = { _ in },
                clock: @escaping @Sendable () -> UInt64 = HostEnvironment.monotonicNanoseconds,
                processor: Int = 0, randomSeed: UInt64? = nil, helpers: [HostHelper] = []) {
        self.task = task
        self.trace = trace
        self.clock = clock
        self.processor = processor
        self.randomSeed = randomSeed
        self.helpers = helpers
    }

    /// CLOCK_MONOTONIC, as ktime_get_ns reads it.
    public static func monotonicNanoseconds() -> UInt64 {
        var now = timespec()
        clock_gettime(CLOCK_MONOTONIC, &now)
        return UInt64(now.tv_sec) &* 1_000_000_000 &+ UInt64(now.tv_nsec)
    }
}
