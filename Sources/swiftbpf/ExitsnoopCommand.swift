#if os(Linux)
import ArgumentParser
import BPFTools

struct ExitsnoopCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "exitsnoop",
        abstract: "Trace process exits: how long each process lived and how it ended.",
        discussion: """
            Columns as bcc's exitsnoop: PCOMM, PID, PPID, TID, AGE(s) (from start to exit) and \
            EXIT_CODE ("0", "code N", or "signal N (NAME)" with ", core dumped"); -T adds the time \
            of day with milliseconds.

            Hook: the tracepoint sched:sched_process_exit, as bcc. Needs root, or CAP_BPF and \
            CAP_PERFMON.

            Examples:
              swiftbpf exitsnoop                 every process exit until Ctrl-C
              swiftbpf exitsnoop -x              only non-zero exit codes and fatal signals
              swiftbpf exitsnoop --per-thread    every thread's exit
            """)

    @OptionGroup var options: TracingOptions

    @Flag(name: .customShort("x"), help: "Show only failures: non-zero exit codes and fatal signals.")
    var failed = false

    @Flag(name: .customLong("per-thread"), help: "Trace every thread's exit, not only whole processes'.")
    var perThread = false

    func run() throws {
        let tracer = try ExitSnoop.start(.init(pid: options.pid, command: options.comm, failedOnly: failed, perThread: perThread))
        let timestamps = options.timestamps
        try runTracer(tracer, options, header: ExitSnoop.header(timestamps: timestamps)) { event in
            ExitSnoop.line(event, time: timestamps ? timeOfDay(milliseconds: true) : nil)
        }
    }
}
#endif
