#if os(Linux)
import ArgumentParser
import BPFTools

struct BashreadlineCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bashreadline",
        abstract: "Print the commands typed into every bash on the machine.",
        discussion: """
            Columns as bcc's bashreadline: TIME, PID (the bash) and COMMAND, the line readline() \
            returned. Hook: a uretprobe on readline in /bin/bash (or the binary given with -s, \
            e.g. a libreadline.so that bash links to).

            Examples:
              swiftbpf bashreadline
              swiftbpf bashreadline -s /usr/lib/x86_64-linux-gnu/libreadline.so.8
            """)

    @OptionGroup var options: TracingOptions
    @Option(name: .customShort("s"), help: "The binary or library that holds readline().") var binary = "/bin/bash"

    func run() throws {
        let tracer = try BashReadline.start(binary: binary, pid: options.pid)
        try runTracer(tracer, options, header: BashReadline.header) { event in
            BashReadline.line(event, time: timeOfDay())
        }
    }
}

struct FunclatencyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "funclatency",
        abstract: "Time calls to a user-space function and summarize them as a histogram.",
        discussion: """
            TARGET is binary:symbol — a path, a program in PATH, or a library name (c for libc) \
            — then the function. Prints a power-of-two histogram of call durations as bcc's \
            funclatency does (nanoseconds, -u microseconds, -m milliseconds) with the average, \
            total and count under it; once at Ctrl-C or after -d, or every -i seconds.

            Hooks: a uprobe at the function's entry and a uretprobe at its return. bcc also \
            times kernel functions with kprobes, which this kernel does not have.

            Examples:
              swiftbpf funclatency c:malloc -u
              swiftbpf funclatency /bin/bash:readline -m
              swiftbpf funclatency c:nanosleep -p 1234 -i 1
            """)

    @Argument(help: "binary:symbol") var target: String
    @Option(name: .shortAndLong, help: "Only this process.") var pid: Int32?
    @Option(name: .shortAndLong, help: "Print every INTERVAL seconds.") var interval: Int?
    @Option(name: [.customShort("d"), .customLong("duration")], help: "Stop after SECONDS.") var duration: Int?
    @Flag(name: .customShort("u"), help: "Microseconds.") var microseconds = false
    @Flag(name: .customShort("m"), help: "Milliseconds.") var milliseconds = false
    @Flag(name: .customShort("T"), help: "Print the time of day above each histogram.") var timestamps = false
    @Flag(help: "Print one JSON object per histogram.") var json = false

    func validate() throws {
        try validateHistogramArguments(interval: interval, count: nil, duration: duration)
        if microseconds && milliseconds { throw ValidationError("-u and -m exclude each other") }
    }

    func run() throws {
        let unit: FunctionLatency.Unit = milliseconds ? .milliseconds : microseconds ? .microseconds : .nanoseconds
        let tracer = try FunctionLatency.start(target, pid: pid, unit: unit)
        try runHistogram(tracer, interval: interval, count: nil, duration: duration, timestamps: timestamps, json: json,
                         title: "Tracing 1 function for \"\(target)\"...")
    }
}
#endif
