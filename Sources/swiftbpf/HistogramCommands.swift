#if os(Linux)
import ArgumentParser
import BPFTools

struct RunqlatCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "runqlat",
        abstract: "Summarize run queue latency: how long runnable tasks wait for a CPU, as a histogram.",
        discussion: """
            Prints a power-of-two histogram as bcc's runqlat does: each line a range of \
            latencies (microseconds, or milliseconds with -m), its count and a bar. Without an \
            interval it prints once, at Ctrl-C or after -d; with one it prints (and restarts) \
            every INTERVAL seconds, COUNT times.

            Hooks: the raw tracepoints sched_wakeup, sched_wakeup_new and sched_switch (bcc uses \
            the same events through BTF tracepoints or kprobes). Needs root, or CAP_BPF and \
            CAP_PERFMON.

            Examples:
              swiftbpf runqlat              one histogram at Ctrl-C
              swiftbpf runqlat 1 5 -m -T    five 1-second histograms in ms, with times
              swiftbpf runqlat -p 1234      one process's threads
            """)

    @OptionGroup var options: HistogramOptions
    @Option(name: .shortAndLong, help: "Only this process's threads.") var pid: Int32?

    func run() throws {
        let tracer = try RunQueueLatency.start(pid: pid, milliseconds: options.milliseconds)
        try options.run(tracer, title: "Tracing run queue latency...")
    }
}

struct BiolatencyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "biolatency",
        abstract: "Summarize block device I/O latency as a histogram.",
        discussion: """
            Prints a power-of-two histogram of the time from a request's issue to the device to \
            its completion (microseconds, or milliseconds with -m), as bcc's biolatency does; \
            once at Ctrl-C or after -d, or every INTERVAL seconds, COUNT times.

            Hooks: the raw tracepoints block_rq_issue and block_rq_complete (bcc uses kprobes or \
            these). Needs root, or CAP_BPF and CAP_PERFMON.

            Examples:
              swiftbpf biolatency             one histogram at Ctrl-C
              swiftbpf biolatency 1 10 -m     ten 1-second histograms in ms
            """)

    @OptionGroup var options: HistogramOptions

    func run() throws {
        let tracer = try BlockIOLatency.start(milliseconds: options.milliseconds)
        try options.run(tracer, title: "Tracing block device I/O...")
    }
}

/// What runqlat and biolatency take, as bcc's: `[INTERVAL [COUNT]]`, -m, -T, plus -d and --json.
struct HistogramOptions: ParsableArguments {
    @Argument(help: "Seconds between histograms.") var interval: Int?
    @Argument(help: "Number of histograms to print.") var count: Int?
    @Flag(name: .customShort("m"), help: "Milliseconds instead of microseconds.") var milliseconds = false
    @Option(name: [.customShort("d"), .customLong("duration")], help: "Stop after SECONDS.") var duration: Int?
    @Flag(name: .customShort("T"), help: "Print the time of day above each histogram.") var timestamps = false
    @Flag(help: "Print one JSON object per histogram.") var json = false

    func validate() throws { try validateHistogramArguments(interval: interval, count: count, duration: duration) }

    func run(_ tracer: HistogramTracer, title: String) throws {
        try runHistogram(tracer, interval: interval, count: count, duration: duration, timestamps: timestamps, json: json, title: title)
    }
}

func validateHistogramArguments(interval: Int?, count: Int?, duration: Int?) throws {
    if let interval, interval <= 0 { throw ValidationError("the interval must be a positive number of seconds, not \(interval)") }
    if let count, count <= 0 { throw ValidationError("the count must be positive, not \(count)") }
    if let duration, duration <= 0 { throw ValidationError("-d must be a positive number of seconds, not \(duration)") }
}
#endif
