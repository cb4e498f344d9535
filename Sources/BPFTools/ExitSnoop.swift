#if os(Linux)
import BPFLinux

/// exitsnoop: process exits with the process's age and its exit code or the signal that
/// ended it (tracepoint sched:sched_process_exit).
public enum ExitSnoop {
    public static let tool = "exitsnoop"

    public struct Options: Sendable {
        public var pid: Int32?
        /// Only commands whose name contains this.
        public var command: String?
        /// Only non-zero exit codes and fatal signals (bcc's -x).
        public var failedOnly = false
        /// Every thread's exit, not only whole processes' (bcc's --per-thread).
        public var perThread = false

        public init(pid: Int32? = nil, command: String? = nil, failedOnly: Bool = false, perThread: Bool = false) {
            self.pid = pid
            self.command = command
            self.failedOnly = failedOnly
            self.perThread = perThread
        }
    }

    public struct Event: Sendable, Hashable, Codable, ProcessEvent {
        public var pid: Int32
        public var tid: Int32
        public var ppid: Int32
        /// Nanoseconds from the task's start to its exit.
        public var age: UInt64
        /// The wait status: exit status << 8, or the signal (with 0x80 when it dumped core).
        public var status: Int32
        public var command: String

        public var exitCode: Int32 { status >> 8 & 0xff }
        /// The signal that ended the task, or 0.
        public var signal: Int32 { status & 0x7f }
        public var dumpedCore: Bool { status & 0x80 != 0 }
    }

    public static func start(_ options: Options = Options()) throws(ToolError) -> EventTracer<Event> {
        var constants = ExitsnoopSkeleton.Constants()
        constants.target_pid = options.pid
        constants.failed_only = options.failedOnly ? 1 : 0
        constants.per_thread = options.perThread ? 1 : 0
        let skeleton = try loadSkeleton(tool: tool) { try ExitsnoopSkeleton(constants: constants) }
        return try EventTracer(tool: tool, object: skeleton.collection, attach: skeleton.attach, events: skeleton.maps.events,
                               lost: skeleton.globals.lost_events, decode: filtering(decode, command: options.command))
    }

    /// struct exit_event of exitsnoop.bpf.c.
    static func decode(_ bytes: UnsafeRawBufferPointer) throws(ToolError) -> Event {
        let record = try EventRecord(bytes, tool: tool, minimumSize: 48)
        let start: UInt64 = record.load(0)
        let exit: UInt64 = record.load(8)
        return Event(pid: record.load(16), tid: record.load(20), ppid: record.load(24), age: exit >= start ? exit - start : 0,
                     status: record.load(28), command: record.string(32, count: 16))
    }

    // MARK: Text, as bcc's exitsnoop prints it

    public static func header(timestamps: Bool) -> String {
        (timestamps ? pad("TIME", 12) + " " : "") + pad("PCOMM", 16) + " " + pad("PID", 7) + " " + pad("PPID", 7) + " "
            + pad("TID", 7) + " " + pad("AGE(s)", 7) + " EXIT_CODE"
    }

    public static func line(_ event: Event, time: String?) -> String {
        (time.map { pad($0, 12) + " " } ?? "") + pad(event.command, 16) + " " + pad(String(event.pid), 7) + " "
            + pad(String(event.ppid), 7) + " " + pad(String(event.tid), 7) + " "
            + pad(fixed(Double(event.age) / 1e9, digits: 2), 7) + " " + exitDescription(event)
    }

    /// "0", "code 3", "signal 9 (KILL)", "signal 11 (SEGV), core dumped".
    public static func exitDescription(_ event: Event) -> String {
        guard event.signal != 0 else { return event.exitCode == 0 ? "0" : "code \(event.exitCode)" }
        var text = "signal \(event.signal)"
        if let name = signalNames[event.signal] { text += " (\(name))" }
        if event.dumpedCore { text += ", core dumped" }
        return text
    }

    /// Linux's signal numbers (the same on x86-64 and arm64).
    static let signalNames: [Int32: String] = [
        1: "HUP", 2: "INT", 3: "QUIT", 4: "ILL", 5: "TRAP", 6: "ABRT", 7: "BUS", 8: "FPE", 9: "KILL", 10: "USR1",
        11: "SEGV", 12: "USR2", 13: "PIPE", 14: "ALRM", 15: "TERM", 16: "STKFLT", 17: "CHLD", 18: "CONT", 19: "STOP",
        20: "TSTP", 21: "TTIN", 22: "TTOU", 23: "URG", 24: "XCPU", 25: "XFSZ", 26: "VTALRM", 27: "PROF", 28: "WINCH",
        29: "IO", 30: "PWR", 31: "SYS",
    ]
}
#endif
