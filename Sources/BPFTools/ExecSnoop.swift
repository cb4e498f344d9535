#if os(Linux)
import BPFLinux

/// execsnoop: every execve(2) on the machine, with the process, its parent, the result
/// and the argument list (tracepoints syscalls:sys_enter_execve and sys_exit_execve).
public enum ExecSnoop {
    public static let tool = "execsnoop"

    public struct Options: Sendable {
        /// Only this process (filtered in the kernel).
        public var pid: Int32?
        /// Only this user (filtered in the kernel).
        public var uid: UInt32?
        /// Only commands whose name contains this.
        public var command: String?
        /// Also failed execs (bcc's -x).
        public var includeFailed = false
        /// Arguments read per exec, at most 60 (bcc's --max-args, default 20).
        public var maxArguments = 20

        public init(pid: Int32? = nil, uid: UInt32? = nil, command: String? = nil, includeFailed: Bool = false, maxArguments: Int = 20) {
            self.pid = pid
            self.uid = uid
            self.command = command
            self.includeFailed = includeFailed
            self.maxArguments = maxArguments
        }
    }

    public struct Event: Sendable, Hashable, Codable, ProcessEvent {
        public var pid: Int32
        public var ppid: Int32
        public var uid: UInt32
        /// 0, or the negative errno execve failed with.
        public var returnValue: Int32
        /// The command name after the exec (before it, when the exec failed).
        public var command: String
        public var arguments: [String]
        /// More arguments were passed than were read.
        public var truncated: Bool
    }

    /// Loads and attaches execsnoop's programs.
    public static func start(_ options: Options = Options()) throws(ToolError) -> EventTracer<Event> {
        guard (1...60).contains(options.maxArguments) else {
            throw ToolError(tool: tool, message: "--max-args must be between 1 and 60, not \(options.maxArguments)")
        }
        var constants = ExecsnoopSkeleton.Constants()
        constants.target_pid = options.pid
        constants.target_uid = options.uid
        constants.max_arguments = UInt32(options.maxArguments)
        let skeleton = try loadSkeleton(tool: tool) { try ExecsnoopSkeleton(constants: constants) }
        return try EventTracer(tool: tool, object: skeleton.collection, attach: skeleton.attach, events: skeleton.maps.events,
                               lost: skeleton.globals.lost_events) { bytes throws(ToolError) in
            let event = try decode(bytes)
            guard options.includeFailed || event.returnValue == 0, event.matches(pid: nil, command: options.command) else { return nil }
            return event
        }
    }

    /// struct exec_event of execsnoop.bpf.c.
    static func decode(_ bytes: UnsafeRawBufferPointer) throws(ToolError) -> Event {
        let record = try EventRecord(bytes, tool: tool, minimumSize: 48)
        let count = Int(record.load(16, as: UInt32.self))
        let size = Int(record.load(20, as: UInt32.self))
        return Event(pid: record.load(0), ppid: record.load(4), uid: record.load(8), returnValue: record.load(12),
                     command: record.string(32, count: 16), arguments: record.strings(48, count: size, limit: count),
                     truncated: record.load(24, as: UInt32.self) != 0)
    }

    // MARK: Text, as bcc's execsnoop prints it

    public static func header(timestamps: Bool) -> String {
        (timestamps ? pad("TIME", 8) + " " : "") + pad("PCOMM", 16) + " " + pad("PID", 7) + " " + pad("PPID", 7) + " "
            + padLeft("RET", 3) + " ARGS"
    }

    public static func line(_ event: Event, time: String?) -> String {
        var arguments = event.arguments.joined(separator: " ")
        if event.truncated { arguments += " ..." }
        return (time.map { pad($0, 8) + " " } ?? "") + pad(event.command, 16) + " " + pad(String(event.pid), 7) + " "
            + pad(String(event.ppid), 7) + " " + padLeft(String(event.returnValue), 3) + " " + arguments
    }
}
#endif
