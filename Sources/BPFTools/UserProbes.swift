#if os(Linux)
import BPFLinux
import Glibc

/// bashreadline: the command lines typed into bash, from a uretprobe on its readline().
public enum BashReadline {
    public static let tool = "bashreadline"

    public struct Event: Sendable, Hashable, Codable {
        public var pid: Int32
        public var line: String
    }

    /// `binary`: the bash (or libreadline) that holds `readline`.
    public static func start(binary: String = "/bin/bash", pid: Int32? = nil) throws(ToolError) -> EventTracer<Event> {
        let skeleton = try loadSkeleton(tool: tool) { try BashreadlineSkeleton() }
        return try EventTracer(tool: tool, object: skeleton.collection, attach: { () throws(BPFError) in
            [try Link.uretprobe(binary, .symbol("readline"), pid: pid, program: skeleton.programs.bashreadline_return)]
        }, events: skeleton.maps.events, lost: skeleton.globals.lost_events, decode: decode)
    }

    /// struct line_event of bashreadline.bpf.c.
    static func decode(_ bytes: UnsafeRawBufferPointer) throws(ToolError) -> Event? {
        let record = try EventRecord(bytes, tool: tool, minimumSize: 4)
        return Event(pid: record.load(0), line: record.string(4, count: 256))
    }

    public static let header = pad("TIME", 9) + " " + pad("PID", 7) + " COMMAND"

    public static func line(_ event: Event, time: String) -> String {
        pad(time, 9) + " " + pad(String(event.pid), 7) + " " + event.line
    }
}

/// funclatency: a log2 histogram of how long calls to a user-space function take (uprobe
/// at entry, uretprobe at return). bcc also takes kernel functions through kprobes, which
/// this kernel does not have.
public enum FunctionLatency {
    public static let tool = "funclatency"

    public enum Unit: String, Sendable, CaseIterable {
        case nanoseconds = "nsecs", microseconds = "usecs", milliseconds = "msecs"

        var nanoseconds: UInt64 {
            switch self {
            case .nanoseconds: 1
            case .microseconds: 1000
            case .milliseconds: 1_000_000
            }
        }
    }

    /// `target` is `binary:symbol`: a path, a program found in PATH, or a library name such as
    /// `c` (libc) or `pthread`, then the function's name.
    public static func start(_ target: String, pid: Int32? = nil, unit: Unit = .nanoseconds) throws(ToolError) -> HistogramTracer {
        let (binary, symbol) = try resolve(target)
        var constants = FunclatencySkeleton.Constants()
        constants.target_pid = pid
        constants.unit_ns = unit.nanoseconds
        let skeleton = try loadSkeleton(tool: tool) { try FunclatencySkeleton(constants: constants) }
        return try HistogramTracer(tool: tool, unit: unit.rawValue, object: skeleton.collection, attach: { () throws(BPFError) in
            let entry = try Link.uprobe(binary, .symbol(symbol), pid: pid, program: skeleton.programs.funclatency_entry)
            do throws(BPFError) {
                return [entry, try Link.uretprobe(binary, .symbol(symbol), pid: pid, program: skeleton.programs.funclatency_return)]
            } catch {
                entry.close()
                throw error
            }
        }, histogram: skeleton.maps.histogram, sums: (skeleton.globals.total_time, skeleton.globals.call_count))
    }

    /// "c:malloc" → ("/lib/x86_64-linux-gnu/libc.so.6", "malloc").
    static func resolve(_ target: String) throws(ToolError) -> (binary: String, symbol: String) {
        guard let colon = target.lastIndex(of: ":"), colon != target.startIndex, target.index(after: colon) != target.endIndex else {
            throw ToolError(tool: tool, message: "'\(target)' is not binary:symbol (for example /bin/bash:readline or c:malloc)")
        }
        let name = String(target[..<colon]), symbol = String(target[target.index(after: colon)...])
        if name.contains("/") { return (name, symbol) }
        var candidates = libraryFolders.flatMap { folder in ["\(folder)/lib\(name).so.6", "\(folder)/lib\(name).so.0", "\(folder)/lib\(name).so"] }
        let path = getenv("PATH").map { String(cString: $0) } ?? "/usr/bin:/bin"
        candidates += path.split(separator: ":").map { "\($0)/\(name)" }
        guard let found = candidates.first(where: { access($0, R_OK) == 0 }) else {
            throw ToolError(tool: tool, message: "no library lib\(name).so or program \(name) found (looked in \(libraryFolders.joined(separator: ", ")) and PATH); give a path")
        }
        return (found, symbol)
    }

    #if arch(x86_64)
    static let libraryFolders = ["/lib/x86_64-linux-gnu", "/usr/lib/x86_64-linux-gnu", "/lib64", "/usr/lib64"]
    #else
    static let libraryFolders = ["/lib/aarch64-linux-gnu", "/usr/lib/aarch64-linux-gnu", "/lib64", "/usr/lib64"]
    #endif

    /// bcc's line under the histogram: "avg = 1234 nsecs, total: 5678 nsecs, count: 4".
    public static func summary(total: UInt64, count: UInt64, unit: String) -> String {
        "avg = \(count == 0 ? 0 : total / count) \(unit), total: \(total) \(unit), count: \(count)"
    }
}
#endif
