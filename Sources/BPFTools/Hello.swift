#if os(Linux)
import BPFLinux

/// hello: the first eBPF program — every openat(2) on the machine, who made it and which
/// path it named (Examples/HelloBPF/Sources/HelloBPF/bpf/hello.bpf.c, explained line by line).
public enum Hello {
    public static let tool = "hello"

    public struct Event: Sendable, Hashable, Codable, ProcessEvent {
        public var pid: Int32
        public var uid: UInt32
        public var command: String
        public var path: String
    }

    /// Starts tracing; `pid` and `command` (a part of the name) keep only those processes'
    /// opens, filtered here in user space to keep the C program minimal.
    public static func start(pid: Int32? = nil, command: String? = nil) throws(ToolError) -> EventTracer<Event> {
        let skeleton = try loadSkeleton(tool: tool) { try HelloSkeleton() }
        return try EventTracer(tool: tool, object: skeleton.collection, attach: skeleton.attach, events: skeleton.maps.events,
                               lost: skeleton.globals.lost_events, decode: filtering(decode, pid: pid, command: command))
    }

    /// struct event of hello.bpf.c.
    static func decode(_ bytes: UnsafeRawBufferPointer) throws(ToolError) -> Event {
        let record = try EventRecord(bytes, tool: tool, minimumSize: 24)
        return Event(pid: record.load(0), uid: record.load(4), command: record.string(8, count: 16), path: record.string(24, count: 256))
    }

    public static func line(_ event: Event) -> String {
        "\(event.command) (pid \(event.pid), uid \(event.uid)) opened \(event.path)"
    }
}
#endif
