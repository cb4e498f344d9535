#if os(Linux)
import ArgumentParser
import BPFTools
import Foundation

struct ProfileCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "profile",
        abstract: "Sample what the CPUs run, with user and kernel stacks, as folded stacks and a flame graph.",
        discussion: """
            Samples every CPU -F times a second (49 by default, as bcc's profile) through a perf \
            event on the CPU clock, and counts the samples by process and stack in the kernel. \
            At Ctrl-C or after -d it prints one folded stack per line — command;user \
            frames;kernel frames_[k] and the sample count, most frequent first, the input of \
            flame graph tools — and with --svg writes a self-contained SVG flame graph.

            Kernel frames are named from /proc/kallsyms. User frames are named from the ELF \
            symbol tables of the files the process maps (Swift names demangled), or \
            file+0xoffset where no symbol covers the address; the mappings are read when the \
            run ends, so a process that has exited by then shows [unknown]. --json prints one \
            object per stack instead: pid, frames (the command, then outermost first) and count.

            Examples:
              swiftbpf profile -d 10 --svg cpu.svg
              swiftbpf profile -p 1234 -F 99 -U
            """)

    @Option(name: .shortAndLong, help: "Only this process.") var pid: Int32?
    @Option(name: .customShort("F"), help: ArgumentHelp("Samples per second on each CPU.", valueName: "HZ")) var frequency: UInt64 = 49
    @Flag(name: .customShort("U"), help: "User stacks only.") var userOnly = false
    @Flag(name: .customShort("K"), help: "Kernel stacks only.") var kernelOnly = false
    @Option(name: [.customShort("d"), .customLong("duration")], help: "Stop after SECONDS.") var duration: Int?
    @Option(help: ArgumentHelp("Also write a flame graph to this SVG file.", valueName: "FILE")) var svg: String?
    @Flag(help: "Print one JSON object per stack instead of folded lines.") var json = false

    /// A stack as --json prints it.
    struct Stack: Encodable {
        var pid: Int32
        var frames: [String]
        var count: UInt64
    }

    func validate() throws {
        if userOnly && kernelOnly { throw ValidationError("-U and -K exclude each other") }
        if frequency == 0 { throw ValidationError("-F must be at least 1 sample per second") }
        try validateHistogramArguments(interval: nil, count: nil, duration: duration)
    }

    func run() throws {
        let profiler = try Profiler(frequency: frequency, pid: pid, userStacks: !kernelOnly, kernelStacks: !userOnly)
        defer { profiler.close() }
        let scope = pid.map { "process \($0)" } ?? "all threads"
        let stacks = userOnly ? "user" : kernelOnly ? "kernel" : "user + kernel"
        printError("Sampling at \(frequency) Hertz of \(scope) by \(stacks) stack... Hit Ctrl-C to end.")
        try everyInterval(interval: nil, count: nil, duration: duration) { _ in }
        let samples = try profiler.samples()
        let lost = try profiler.lostSamples()
        profiler.close()
        let symbols = StackSymbols()
        var graph = FlameGraph(title: "swiftbpf profile, \(stacks) stacks, \(scope)")
        var total: UInt64 = 0
        var lines: [String] = []
        for sample in samples {
            let folded = sample.folded(symbols)
            lines.append(json ? try jsonLine(Stack(pid: sample.pid, frames: folded.split(separator: ";").map(String.init), count: sample.count))
                              : "\(folded) \(sample.count)")
            graph.add(folded: folded, count: sample.count)
            total += sample.count
        }
        if let svg {
            do { try graph.svg().write(toFile: svg, atomically: true, encoding: .utf8) } catch {
                throw CommandError("profile: cannot write the flame graph to \(svg): \(error.localizedDescription)")
            }
        }
        for line in lines { emit(line) }
        printError("profile: \(total) samples, \(lost == 0 ? "none" : String(lost)) lost\(svg.map { "; flame graph in \($0)" } ?? "")")
    }
}
#endif
