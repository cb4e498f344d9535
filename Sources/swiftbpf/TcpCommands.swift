#if os(Linux)
import ArgumentParser
import BPFTools

struct TcplifeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tcplife",
        abstract: "Trace TCP sessions as they close: endpoints, bytes each way and duration.",
        discussion: """
            Columns as bcc's tcplife: PID and COMM (the process that connected or closed), \
            LADDR LPORT RADDR RPORT, TX_KB (sent and acknowledged) and RX_KB, and MS, the \
            session's life. Sessions opened before tracing began are not shown (their start is \
            unknown). -w widens the address columns for IPv6.

            Hook: the tracepoint sock:inet_sock_set_state, as bcc. Needs root, or CAP_BPF and \
            CAP_PERFMON.

            Examples:
              swiftbpf tcplife                  every TCP session until Ctrl-C
              swiftbpf tcplife -D 443 -T        sessions to port 443, with times
              swiftbpf tcplife --json -d 30     JSON lines for 30 seconds
            """)

    @OptionGroup var options: TracingOptions
    @Option(name: .customShort("L"), help: ArgumentHelp("Only this local port.", valueName: "PORT")) var localPort: UInt16?
    @Option(name: .customShort("D"), help: ArgumentHelp("Only this remote port.", valueName: "PORT")) var remotePort: UInt16?
    @Flag(name: .shortAndLong, help: "Wide address columns (IPv6).") var wide = false

    func run() throws {
        let tracer = try TcpLife.start(.init(pid: options.pid, localPort: localPort, remotePort: remotePort, command: options.comm))
        let timestamps = options.timestamps, wide = wide
        try runTracer(tracer, options, header: TcpLife.header(ipv6: wide, timestamps: timestamps)) { event in
            TcpLife.line(event, ipv6: wide, time: timestamps ? timeOfDay() : nil)
        }
    }
}

struct TcpstatesCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tcpstates",
        abstract: "Trace TCP state changes, with the time spent in each state.",
        discussion: """
            Columns as bcc's tcpstates: SKADDR (the socket's kernel address), C-PID and C-COMM \
            (the task current at the change, often not the socket's owner for changes made by \
            the network stack), the endpoints, OLDSTATE -> NEWSTATE and MS, the milliseconds \
            spent in the old state (0 when tracing began later). -w widens the address columns.

            Hook: the tracepoint sock:inet_sock_set_state, as bcc. Needs root, or CAP_BPF and \
            CAP_PERFMON.

            Examples:
              swiftbpf tcpstates                every change until Ctrl-C
              swiftbpf tcpstates -L 22 -T       connections to local port 22, with times
            """)

    @OptionGroup var options: TracingOptions
    @Option(name: .customShort("L"), help: ArgumentHelp("Only this local port.", valueName: "PORT")) var localPort: UInt16?
    @Option(name: .customShort("D"), help: ArgumentHelp("Only this remote port.", valueName: "PORT")) var remotePort: UInt16?
    @Flag(name: .shortAndLong, help: "Wide address columns (IPv6).") var wide = false

    func run() throws {
        let tracer = try TcpStates.start(localPort: localPort, remotePort: remotePort, pid: options.pid, command: options.comm)
        let timestamps = options.timestamps, wide = wide
        try runTracer(tracer, options, header: TcpStates.header(ipv6: wide, timestamps: timestamps)) { event in
            TcpStates.line(event, ipv6: wide, time: timestamps ? timeOfDay() : nil)
        }
    }
}
#endif
