#if os(Linux)
import ArgumentParser
import BPFTools

struct HelloCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "hello",
        abstract: "The first eBPF program: print who opens which file, as it happens.",
        discussion: """
            A program of a few lines runs in the kernel at the tracepoint \
            syscalls:sys_enter_openat, each time any process opens a file, and sends the process \
            and the path through a ring buffer; this command prints them. Its C source, explained \
            line by line, is Examples/HelloBPF/Sources/HelloBPF/bpf/hello.bpf.c, and \
            Examples/HelloBPF is a package that builds and runs it on its own.

            Needs root, or CAP_BPF and CAP_PERFMON. Ctrl-C stops.

            Examples:
              sudo swiftbpf hello
              sudo swiftbpf hello -c cat -d 5
            """)

    @OptionGroup var options: TracingOptions

    func run() throws {
        let tracer = try Hello.start(pid: options.pid, command: options.comm)
        let timestamps = options.timestamps
        try runTracer(tracer, options, header: nil) { event in
            (timestamps ? timeOfDay() + " " : "") + Hello.line(event)
        }
    }
}
#endif
