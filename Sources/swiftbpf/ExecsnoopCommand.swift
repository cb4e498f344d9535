#if os(Linux)
import ArgumentParser
import BPFTools

struct ExecsnoopCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "execsnoop",
        abstract: "Trace new processes: every exec with its pid, parent, result and arguments.",
        discussion: """
            Columns as bcc's execsnoop: PCOMM (the command name after the exec), PID, PPID, RET \
            (0, or the error execve returned) and ARGS (the argument list; "..." when there were \
            more than --max-args). Failed execs are shown only with -x.

            Hooks: the tracepoints syscalls:sys_enter_execve (arguments read while the caller's \
            memory holds them) and syscalls:sys_exit_execve (the result). Needs root, or CAP_BPF \
            and CAP_PERFMON. Ctrl-C stops and prints how many events were seen and lost.

            Examples:
              swiftbpf execsnoop                 every exec until Ctrl-C
              swiftbpf execsnoop -x -T           failed ones too, with the time of day
              swiftbpf execsnoop -c curl -d 10   commands named *curl*, for 10 seconds
              swiftbpf execsnoop --json          one JSON object per exec
            """)

    @OptionGroup var options: TracingOptions

    @Option(name: [.customShort("u"), .long], help: "Trace only this user ID.")
    var uid: UInt32?

    @Flag(name: .customShort("x"), help: "Include failed execs.")
    var failed = false

    @Option(name: .customLong("max-args"), help: "Arguments read per exec (1 to 60).")
    var maxArgs = 20

    func run() throws {
        let tracer = try ExecSnoop.start(.init(pid: options.pid, uid: uid, command: options.comm, includeFailed: failed,
                                               maxArguments: maxArgs))
        let timestamps = options.timestamps
        try runTracer(tracer, options, header: ExecSnoop.header(timestamps: timestamps)) { event in
            ExecSnoop.line(event, time: timestamps ? timeOfDay() : nil)
        }
    }
}
#endif
