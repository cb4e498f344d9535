#if os(Linux)
import BPFLinux

/// tcplife: TCP sessions as they close, with both ends, the bytes sent (acknowledged) and
/// received, and how long they lasted (tracepoint sock:inet_sock_set_state).
public enum TcpLife {
    public static let tool = "tcplife"

    public struct Options: Sendable {
        public var pid: Int32?
        public var localPort: UInt16?
        public var remotePort: UInt16?
        /// Only commands whose name contains this.
        public var command: String?

        public init(pid: Int32? = nil, localPort: UInt16? = nil, remotePort: UInt16? = nil, command: String? = nil) {
            self.pid = pid
            self.localPort = localPort
            self.remotePort = remotePort
            self.command = command
        }
    }

    public struct Event: Sendable, Hashable, Codable, ProcessEvent {
        public var pid: Int32
        public var command: String
        public var endpoints: TcpEndpoints
        public var bytesSent: UInt64
        public var bytesReceived: UInt64
        public var durationNanoseconds: UInt64
    }

    public static func start(_ options: Options = Options()) throws(ToolError) -> EventTracer<Event> {
        var constants = TcplifeSkeleton.Constants()
        constants.target_pid = options.pid
        constants.local_port = options.localPort
        constants.remote_port = options.remotePort
        let skeleton = try loadSkeleton(tool: tool) { try TcplifeSkeleton(constants: constants) }
        return try EventTracer(tool: tool, object: skeleton.collection, attach: skeleton.attach, events: skeleton.maps.events,
                               lost: skeleton.globals.lost_events, decode: filtering(decode, command: options.command))
    }

    /// struct session_event of tcplife.bpf.c.
    static func decode(_ bytes: UnsafeRawBufferPointer) throws(ToolError) -> Event {
        let record = try EventRecord(bytes, tool: tool, minimumSize: 88)
        return Event(pid: record.load(24), command: record.string(72, count: 16), endpoints: TcpEndpoints(record, at: 32),
                     bytesSent: record.load(8), bytesReceived: record.load(16), durationNanoseconds: record.load(0))
    }

    // MARK: Text, as bcc's tcplife prints it

    public static func header(ipv6: Bool, timestamps: Bool) -> String {
        let width = TcpEndpoints.addressWidth(ipv6: ipv6)
        return (timestamps ? pad("TIME", 8) + " " : "") + pad("PID", 5) + " " + pad("COMM", 10) + " " + pad("LADDR", width) + " "
            + pad("LPORT", 5) + " " + pad("RADDR", width) + " " + pad("RPORT", 5) + " " + padLeft("TX_KB", 5) + " "
            + padLeft("RX_KB", 5) + " MS"
    }

    public static func line(_ event: Event, ipv6: Bool, time: String?) -> String {
        let width = TcpEndpoints.addressWidth(ipv6: ipv6)
        let ends = event.endpoints
        return (time.map { pad($0, 8) + " " } ?? "") + pad(String(event.pid), 5) + " " + pad(String(event.command.prefix(10)), 10) + " "
            + pad(ends.localAddress, width) + " " + pad(String(ends.localPort), 5) + " " + pad(ends.remoteAddress, width) + " "
            + pad(String(ends.remotePort), 5) + " " + padLeft(String(event.bytesSent / 1024), 5) + " "
            + padLeft(String(event.bytesReceived / 1024), 5) + " " + fixed(Double(event.durationNanoseconds) / 1e6, digits: 2)
    }
}

/// tcpstates: every TCP state change, with how long the socket spent in the state it
/// leaves (tracepoint sock:inet_sock_set_state).
public enum TcpStates {
    public static let tool = "tcpstates"

    public struct Event: Sendable, Hashable, Codable, ProcessEvent {
        /// The kernel's address of the socket: tells sockets apart.
        public var socket: UInt64
        public var pid: Int32
        public var command: String
        public var endpoints: TcpEndpoints
        public var oldState: String
        public var newState: String
        /// Time spent in the old state; 0 when tracing began after the socket entered it.
        public var previousStateNanoseconds: UInt64
    }

    /// Ports are filtered in the kernel; `pid` and `command` (the task current at the change,
    /// often not the socket's owner) in user space.
    public static func start(localPort: UInt16? = nil, remotePort: UInt16? = nil, pid: Int32? = nil,
                             command: String? = nil) throws(ToolError) -> EventTracer<Event> {
        var constants = TcpstatesSkeleton.Constants()
        constants.local_port = localPort
        constants.remote_port = remotePort
        let skeleton = try loadSkeleton(tool: tool) { try TcpstatesSkeleton(constants: constants) }
        return try EventTracer(tool: tool, object: skeleton.collection, attach: skeleton.attach, events: skeleton.maps.events,
                               lost: skeleton.globals.lost_events, decode: filtering(decode, pid: pid, command: command))
    }

    /// struct state_event of tcpstates.bpf.c.
    static func decode(_ bytes: UnsafeRawBufferPointer) throws(ToolError) -> Event {
        let record = try EventRecord(bytes, tool: tool, minimumSize: 88)
        return Event(socket: record.load(0), pid: record.load(16), command: record.string(72, count: 16),
                     endpoints: TcpEndpoints(record, at: 32), oldState: TcpState.name(record.load(20)),
                     newState: TcpState.name(record.load(24)), previousStateNanoseconds: record.load(8))
    }

    public static func header(ipv6: Bool, timestamps: Bool) -> String {
        let width = TcpEndpoints.addressWidth(ipv6: ipv6)
        return (timestamps ? pad("TIME", 8) + " " : "") + pad("SKADDR", 16) + " " + pad("C-PID", 5) + " " + pad("C-COMM", 10) + " "
            + pad("LADDR", width) + " " + pad("LPORT", 5) + " " + pad("RADDR", width) + " " + pad("RPORT", 5) + " "
            + pad("OLDSTATE", 11) + " -> " + pad("NEWSTATE", 11) + " MS"
    }

    public static func line(_ event: Event, ipv6: Bool, time: String?) -> String {
        let width = TcpEndpoints.addressWidth(ipv6: ipv6)
        let ends = event.endpoints
        return (time.map { pad($0, 8) + " " } ?? "") + pad(String(event.socket, radix: 16), 16) + " " + pad(String(event.pid), 5) + " "
            + pad(String(event.command.prefix(10)), 10) + " " + pad(ends.localAddress, width) + " " + pad(String(ends.localPort), 5) + " "
            + pad(ends.remoteAddress, width) + " " + pad(String(ends.remotePort), 5) + " " + pad(event.oldState, 11) + " -> "
            + pad(event.newState, 11) + " " + fixed(Double(event.previousStateNanoseconds) / 1e6, digits: 3)
    }
}
#endif
