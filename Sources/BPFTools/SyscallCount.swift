#if os(Linux)
import BPFLinux
import Glibc

/// syscount: system calls counted by syscall or by process, with the total time spent in
/// them (tracepoints raw_syscalls:sys_enter and sys_exit).
public enum SyscallCount {
    public static let tool = "syscount"

    public struct Options: Sendable {
        public var pid: Int32?
        /// Only calls that returned an error (bcc's -x).
        public var failedOnly = false
        /// Only calls that failed with this errno (bcc's -e).
        public var errno: Int32?
        /// Also sum the time spent in each call (bcc's -L).
        public var measureTime = false
        /// Count by process instead of by syscall (bcc's -P).
        public var byProcess = false

        public init(pid: Int32? = nil, failedOnly: Bool = false, errno: Int32? = nil, measureTime: Bool = false, byProcess: Bool = false) {
            self.pid = pid
            self.failedOnly = failedOnly
            self.errno = errno
            self.measureTime = measureTime
            self.byProcess = byProcess
        }
    }

    /// One syscall's (or one process's) totals.
    public struct Row: Sendable, Hashable, Codable {
        /// The syscall number, or the process ID.
        public var key: UInt32
        /// The syscall's name (or "syscall N" when unknown), or the process's command.
        public var name: String
        public var count: UInt64
        /// Zero unless time is measured.
        public var totalNanoseconds: UInt64
    }

    public static func start(_ options: Options = Options()) throws(ToolError) -> SyscallCounter {
        var constants = SyscountSkeleton.Constants()
        constants.target_pid = options.pid
        constants.failed_only = options.failedOnly ? 1 : 0
        constants.target_errno = options.errno
        constants.measure_time = options.measureTime ? 1 : 0
        constants.by_process = options.byProcess ? 1 : 0
        let skeleton = try loadSkeleton(tool: tool) { try SyscountSkeleton(constants: constants) }
        return try SyscallCounter(object: skeleton.collection, attach: skeleton.attach, totals: skeleton.maps.totals,
                                  byProcess: options.byProcess, names: options.byProcess ? [:] : SyscallNames.load())
    }

    // MARK: Text, as bcc's syscount prints it

    public static func header(byProcess: Bool, time: Bool, milliseconds: Bool) -> String {
        var text = pad(byProcess ? "PID    COMM" : "SYSCALL", 22) + " " + padLeft("COUNT", 8)
        if time { text += " " + padLeft(milliseconds ? "TIME (ms)" : "TIME (us)", 16) }
        return text
    }

    public static func line(_ row: Row, byProcess: Bool, time: Bool, milliseconds: Bool) -> String {
        let label = byProcess ? pad(String(row.key), 6) + " " + pad(row.name, 15) : row.name
        var text = pad(label, 22) + " " + padLeft(String(row.count), 8)
        if time {
            let value = Double(row.totalNanoseconds) / (milliseconds ? 1e6 : 1e3)
            text += " " + padLeft(fixed(value, digits: milliseconds ? 6 : 3), 16)
        }
        return text
    }
}

/// syscount at work: the totals read, sorted and cleared per interval.
public final class SyscallCounter {
    private let attached: AttachedObject
    private let totals: Map
    private let byProcess: Bool
    private let names: [UInt32: String]

    init(object: ObjectCollection, attach: () throws(BPFError) -> [Link], totals: Map, byProcess: Bool,
         names: [UInt32: String]) throws(ToolError) {
        self.totals = totals
        self.byProcess = byProcess
        self.names = names
        attached = try AttachedObject(tool: SyscallCount.tool, object: object, attach: attach)
    }

    /// The totals so far, the largest first: by count, or by time when `byTime`.
    public func read(byTime: Bool = false) throws(ToolError) -> [SyscallCount.Row] {
        let entries: [(key: [UInt8], value: [UInt8])]
        do { entries = try totals.entries() } catch { throw ToolError(tool: SyscallCount.tool, error) }
        // struct syscall_totals: count, total_ns, comm[16].
        for entry in entries where entry.key.count != 4 || entry.value.count < 32 {
            throw ToolError(tool: SyscallCount.tool,
                            message: "the kernel returned a \(entry.key.count)-byte key and \(entry.value.count)-byte totals; expected 4 and 32")
        }
        return Self.rows(entries, byProcess: byProcess, names: names, byTime: byTime)
    }

    /// The checked entries as rows, sorted. Out of line and not throwing: Swift 6.3 in
    /// release mode can clobber a typed-throws caller's error across inlined closures.
    @inline(never)
    private static func rows(_ entries: [(key: [UInt8], value: [UInt8])], byProcess: Bool, names: [UInt32: String],
                             byTime: Bool) -> [SyscallCount.Row] {
        var rows: [SyscallCount.Row] = []
        for entry in entries {
            let key = load(UInt32.self, from: entry.key)
            let name = byProcess
                ? String(decoding: entry.value[16..<32].prefix { $0 != 0 }, as: UTF8.self)
                : names[key] ?? "syscall \(key)"
            rows.append(.init(key: key, name: name, count: load(UInt64.self, from: Array(entry.value[0..<8])),
                              totalNanoseconds: load(UInt64.self, from: Array(entry.value[8..<16]))))
        }
        return rows.sorted { byTime ? $0.totalNanoseconds > $1.totalNanoseconds : $0.count > $1.count }
    }

    /// Starts the next interval from zero.
    public func clear() throws(ToolError) {
        do {
            for key in try totals.keys() { _ = try totals.delete(key: key) }
        } catch {
            throw ToolError(tool: SyscallCount.tool, error)
        }
    }

    /// Detaches the programs and releases the object.
    public func close() { attached.close() }
}

/// Syscall numbers to names, read from the kernel's UAPI header for this architecture
/// (`/usr/include/.../asm/unistd_64.h`, `#define __NR_read 0`); empty when it is absent,
/// and the tool then shows numbers.
enum SyscallNames {
    static func load() -> [UInt32: String] {
        #if arch(x86_64)
        let candidates = ["/usr/include/x86_64-linux-gnu/asm/unistd_64.h", "/usr/include/asm/unistd_64.h"]
        #else
        let candidates = ["/usr/include/aarch64-linux-gnu/asm/unistd.h", "/usr/include/asm-generic/unistd.h"]
        #endif
        for path in candidates {
            if let text = readTextFile(path) { return parse(text) }
        }
        return [:]
    }

    static func parse(_ text: String) -> [UInt32: String] {
        var names: [UInt32: String] = [:]
        for line in text.split(separator: "\n") {
            let words = line.split(separator: " ", omittingEmptySubsequences: true)
            guard words.count == 3, words[0] == "#define", words[1].hasPrefix("__NR_"), let number = UInt32(words[2]) else { continue }
            names[number] = String(words[1].dropFirst(5))
        }
        return names
    }
}
#endif
