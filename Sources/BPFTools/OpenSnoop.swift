#if os(Linux)
import BPFLinux

/// opensnoop: every openat(2), with the process, the descriptor or error, the flags and the
/// path (tracepoints syscalls:sys_enter_openat and sys_exit_openat). bcc also traces open(2)
/// and openat2(2) with kprobes; the C library opens files with openat(2).
public enum OpenSnoop {
    public static let tool = "opensnoop"

    public struct Options: Sendable {
        public var pid: Int32?
        public var tid: Int32?
        public var uid: UInt32?
        /// Only commands whose name contains this.
        public var command: String?
        /// Only failed opens (bcc's -x).
        public var failedOnly = false

        public init(pid: Int32? = nil, tid: Int32? = nil, uid: UInt32? = nil, command: String? = nil, failedOnly: Bool = false) {
            self.pid = pid
            self.tid = tid
            self.uid = uid
            self.command = command
            self.failedOnly = failedOnly
        }
    }

    public struct Event: Sendable, Hashable, Codable, ProcessEvent {
        /// CLOCK_MONOTONIC nanoseconds at the return of openat(2).
        public var timestamp: UInt64
        public var pid: Int32
        public var tid: Int32
        public var uid: UInt32
        /// The descriptor, or the negative errno.
        public var returnValue: Int32
        public var flags: Int32
        public var mode: Int32
        public var command: String
        public var path: String

        public var fileDescriptor: Int32 { returnValue >= 0 ? returnValue : -1 }
        public var error: Int32 { returnValue >= 0 ? 0 : -returnValue }
    }

    public static func start(_ options: Options = Options()) throws(ToolError) -> EventTracer<Event> {
        var constants = OpensnoopSkeleton.Constants()
        constants.target_pid = options.pid
        constants.target_tid = options.tid
        constants.target_uid = options.uid
        constants.failed_only = options.failedOnly ? 1 : 0
        let skeleton = try loadSkeleton(tool: tool) { try OpensnoopSkeleton(constants: constants) }
        return try EventTracer(tool: tool, object: skeleton.collection, attach: skeleton.attach, events: skeleton.maps.events,
                               lost: skeleton.globals.lost_events, decode: filtering(decode, command: options.command))
    }

    /// struct open_event of opensnoop.bpf.c.
    static func decode(_ bytes: UnsafeRawBufferPointer) throws(ToolError) -> Event {
        let record = try EventRecord(bytes, tool: tool, minimumSize: 48)
        return Event(timestamp: record.load(0), pid: record.load(8), tid: record.load(12), uid: record.load(16),
                     returnValue: record.load(20), flags: record.load(24), mode: record.load(28),
                     command: record.string(32, count: 16), path: record.string(48, count: 256))
    }

    // MARK: Text, as bcc's opensnoop prints it

    public struct Columns: Sendable {
        /// TIME(s): seconds since the first event (bcc's -T).
        public var timestamps = false
        /// UID (bcc's -U).
        public var uid = false
        /// FLAGS in octal (bcc's -e).
        public var flags = false
        /// TID instead of PID (bcc's -t TID).
        public var threadIDs = false

        public init(timestamps: Bool = false, uid: Bool = false, flags: Bool = false, threadIDs: Bool = false) {
            self.timestamps = timestamps
            self.uid = uid
            self.flags = flags
            self.threadIDs = threadIDs
        }
    }

    public static func header(_ columns: Columns) -> String {
        var text = columns.timestamps ? pad("TIME(s)", 14) + " " : ""
        if columns.uid { text += pad("UID", 6) + " " }
        text += pad(columns.threadIDs ? "TID" : "PID", 6) + " " + pad("COMM", 16) + " " + padLeft("FD", 4) + " " + padLeft("ERR", 3) + " "
        if columns.flags { text += pad("FLAGS", 8) + " " }
        return text + "PATH"
    }

    /// `seconds`: the event's time since the first event, for TIME(s).
    public static func line(_ event: Event, _ columns: Columns, seconds: Double) -> String {
        var text = columns.timestamps ? pad(fixed(seconds, digits: 9), 14) + " " : ""
        if columns.uid { text += pad(String(event.uid), 6) + " " }
        text += pad(String(columns.threadIDs ? event.tid : event.pid), 6) + " " + pad(event.command, 16) + " "
            + padLeft(String(event.fileDescriptor), 4) + " " + padLeft(String(event.error), 3) + " "
        if columns.flags { text += padLeft(String(UInt32(bitPattern: event.flags), radix: 8), 8, fill: "0") + " " }
        return text + event.path
    }
}

#endif
