#if os(Linux)
import ArgumentParser
import BPFTools

struct OpensnoopCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "opensnoop",
        abstract: "Trace file opens: who opened which path, with the descriptor or the error.",
        discussion: """
            Columns as bcc's opensnoop: PID (TID with -t), COMM, FD (-1 on failure), ERR (the \
            errno, 0 on success) and PATH; -T adds TIME(s), seconds since the first event, -U the \
            UID, -e the open flags in octal.

            Hooks: the tracepoints syscalls:sys_enter_/sys_exit_ of open, openat and openat2 \
            (bcc uses kprobes or fentry on the same syscalls). Needs root, or CAP_BPF and \
            CAP_PERFMON.

            Examples:
              swiftbpf opensnoop                 every open until Ctrl-C
              swiftbpf opensnoop -x              only failed opens
              swiftbpf opensnoop -p 1234 -e      one process, with flags
              swiftbpf opensnoop --json -d 5     JSON lines for 5 seconds
            """)

    @OptionGroup var options: TracingOptions

    @Option(name: .customShort("t"), help: ArgumentHelp("Trace only this thread ID (the PID column shows thread IDs).", valueName: "TID"))
    var tid: Int32?

    @Option(name: [.customShort("u"), .long], help: "Trace only this user ID.")
    var uid: UInt32?

    @Flag(name: .customShort("U"), help: "Show the UID column.")
    var showUID = false

    @Flag(name: .customShort("x"), help: "Show only failed opens.")
    var failed = false

    @Flag(name: .customShort("e"), help: "Show the FLAGS column (octal).")
    var extended = false

    func run() throws {
        let tracer = try OpenSnoop.start(.init(pid: options.pid, tid: tid, uid: uid, command: options.comm, failedOnly: failed))
        let columns = OpenSnoop.Columns(timestamps: options.timestamps, uid: showUID, flags: extended, threadIDs: tid != nil)
        var first: UInt64?
        try runTracer(tracer, options, header: OpenSnoop.header(columns)) { event in
            let start = first ?? event.timestamp
            first = start
            return OpenSnoop.line(event, columns, seconds: Double(event.timestamp &- start) / 1e9)
        }
    }
}
#endif
