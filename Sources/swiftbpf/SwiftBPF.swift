import ArgumentParser

@main
struct SwiftBPF: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "swiftbpf",
        abstract: "The eBPF toolkit written in Swift: assemble, disassemble and run eBPF programs.",
        discussion: """
            Programs are given as raw bytecode (8 bytes an instruction, little-endian unless \
            --big-endian), as assembly text in the conformance-suite syntax (mov %r0, 1) or the \
            kernel syntax (r0 = 1), or as a conformance-suite .data test file.

            The tracing tools (hello, execsnoop, opensnoop, exitsnoop, syscount, runqlat, \
            biolatency, tcplife, tcpstates, bashreadline, funclatency, profile; Linux, as root) take bcc's \
            options and print bcc's columns.

            Examples:
              swiftbpf run Examples/checksum.asm --mem-file packet.bin
              swiftbpf asm prog.s -o prog.bin
              swiftbpf disasm prog.bin --syntax kernel
              sudo swiftbpf execsnoop
            """,
        version: "swiftbpf \(swiftBPFVersion)",
        subcommands: [AssembleCommand.self, DisassembleCommand.self, RunCommand.self, ConformancePluginCommand.self, BTFCommand.self, ObjectCommand.self, ProgramCommand.self, MapCommand.self, LinkCommand.self, FeatureCommand.self, LoadCommand.self, FilterCommand.self, ClassicCommand.self, CaptureCommand.self, VerifyCommand.self] + tracingTools)

    /// The conformance runner calls its plugin as `PLUGIN MEMORY OPTIONS...`, so with
    /// `--plugin_options conformance-plugin` the memory comes before the subcommand.
    static func main() {
        var arguments = Array(CommandLine.arguments.dropFirst())
        if let position = arguments.firstIndex(of: ConformancePluginCommand.configuration.commandName ?? ""), position > 0,
           arguments[..<position].allSatisfy({ !$0.hasPrefix("-") }) {
            arguments.insert(arguments.remove(at: position), at: 0)
        }
        if arguments.first == CaptureCommand.configuration.commandName {
            arguments = CaptureCommand.splittingClusters(arguments)
        }
        main(arguments)
    }
}

/// The release this build belongs to, printed by --version.
let swiftBPFVersion = "0.8.0"

/// The tracing tools (BPFTools), Linux only.
#if os(Linux)
let tracingTools: [any ParsableCommand.Type] = [HelloCommand.self, ExecsnoopCommand.self, OpensnoopCommand.self, ExitsnoopCommand.self, RunqlatCommand.self, BiolatencyCommand.self, SyscountCommand.self, TcplifeCommand.self, TcpstatesCommand.self, BashreadlineCommand.self, FunclatencyCommand.self, ProfileCommand.self]
#else
let tracingTools: [any ParsableCommand.Type] = []
#endif

/// A user mistake or bad input: printed as one sentence, exit status 1, no stack trace.
struct CommandError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
