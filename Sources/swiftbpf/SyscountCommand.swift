#if os(Linux)
import ArgumentParser
import BPFTools

struct SyscountCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "syscount",
        abstract: "Count system calls by syscall or by process, with the time spent in them.",
        discussion: """
            Prints the top syscalls (or processes with -P) by count, or by total time with -L, \
            as bcc's syscount does: once at Ctrl-C or after -d, or every INTERVAL seconds. \
            Syscall names come from the kernel headers in /usr/include (numbers when absent).

            Hooks: the tracepoints raw_syscalls:sys_enter and sys_exit, as bcc. Needs root, or \
            CAP_BPF and CAP_PERFMON.

            Examples:
              swiftbpf syscount                 top 10 syscalls at Ctrl-C
              swiftbpf syscount -L -i 1         with time, every second
              swiftbpf syscount -P -T 5         top 5 processes
              swiftbpf syscount -x -e 2         calls that failed with ENOENT
            """)

    @Option(name: .shortAndLong, help: "Only this process.") var pid: Int32?
    @Option(name: .shortAndLong, help: "Print every INTERVAL seconds.") var interval: Int?
    @Option(name: [.customShort("d"), .customLong("duration")], help: "Stop after SECONDS.") var duration: Int?
    @Option(name: [.customShort("T"), .customLong("top")], help: "Rows to print.") var top = 10
    @Flag(name: [.customShort("x"), .customLong("failures")], help: "Only calls that returned an error.") var failures = false
    @Option(name: [.customShort("e"), .customLong("errno")], help: "Only calls that failed with this errno (a number).") var errno: Int32?
    @Flag(name: [.customShort("L"), .customLong("latency")], help: "Also show the total time spent in each.") var latency = false
    @Flag(name: [.customShort("m"), .customLong("milliseconds")], help: "Time in milliseconds instead of microseconds.") var milliseconds = false
    @Flag(name: [.customShort("P"), .customLong("process")], help: "Count by process instead of by syscall.") var process = false
    @Flag(help: "Print one JSON object per interval.") var json = false

    func validate() throws {
        try validateHistogramArguments(interval: interval, count: nil, duration: duration)
        if top <= 0 { throw ValidationError("-T must be a positive number of rows, not \(top)") }
        if let errno, errno <= 0 { throw ValidationError("-e must be a positive errno number, not \(errno)") }
    }

    func run() throws {
        let counter = try SyscallCount.start(.init(pid: pid, failedOnly: failures, errno: errno, measureTime: latency, byProcess: process))
        defer { counter.close() }
        if !json { emit("Tracing syscalls, printing top \(top)... Ctrl+C to quit.") }
        try everyInterval(interval: interval, count: nil, duration: duration) { last in
            let rows = Array(try counter.read(byTime: latency).prefix(top))
            if json {
                struct Interval: Encodable { var time: String; var rows: [SyscallCount.Row] }
                emit(try jsonLine(Interval(time: timeOfDay(), rows: rows)))
            } else {
                emit("[\(timeOfDay())]")
                emit(SyscallCount.header(byProcess: process, time: latency, milliseconds: milliseconds))
                for row in rows { emit(SyscallCount.line(row, byProcess: process, time: latency, milliseconds: milliseconds)) }
                emit("")
            }
            if !last { try counter.clear() }
        }
    }
}
#endif
