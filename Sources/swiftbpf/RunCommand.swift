import ArgumentParser
import BPFInstructions
import BPFVM
import Foundation

extension EngineKind: ExpressibleByArgument {}

struct RunCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run an eBPF program in the SwiftBPF VM and print r0.",
        discussion: """
            r1 points to the input memory and r2 holds its length; every memory access is \
            checked. FILE is bytecode, assembly or a conformance .data test file (whose -- mem \
            is the input unless --mem or --mem-file is given; a result that differs from the \
            file's -- result exits with status 1). With --repeat, the program runs N times and \
            the mean time per run is printed, as bpftool prog run reports it.

            --engine chooses how: 'jit' compiles the program to x86-64 machine code with the \
            same memory checks, budget and errors as the interpreter, and is the default where \
            it exists (x86-64) because it runs loops and packet parsing 2 to 8 times faster \
            for a compile cost of about 10 µs for a small program (swiftbpf-bench jit); \
            'interpreter' runs anywhere. \
            Both give the same r0 and the same errors.

            With --pcap, FILE is an object built by clang -target bpf and the program named by \
            --program (an XDP, TC or socket filter program) runs over every packet of the \
            capture, verified first for its section's type and with the object's maps in user \
            space; the count of each verdict and every map's contents are printed at the end \
            (through the object's BTF, as swiftbpf map dump shows them), and --write saves \
            the packets the program kept, as it left them. The JIT runs it without memory \
            checks, as the verifier proved them; the interpreter keeps them. For example:

              swiftbpf run firewall.bpf.o --program firewall --pcap trace.pcap --write kept.pcap
            """)

    @Argument(help: "Program file: bytecode, assembly or .data test.") var file: String
    @Option(help: "Input memory as hex bytes, e.g. '00 01 02 03'.") var mem: String?
    @Option(help: "Read the input memory from this file.") var memFile: String?
    @Option(help: "Run N times and report the mean duration.") var `repeat`: Int = 1
    @Option(help: "How FILE is written: auto, raw, asm or data.") var format: ProgramFormat = .auto
    @Option(help: "Assembly syntax: conformance or kernel (default: detected).") var syntax: AssemblySyntax?
    @Option(help: "How to run it: jit or interpreter (default: \(EngineKind.preferred.rawValue)).")
    var engine: EngineKind = .preferred
    @Option(help: "Stop a run after this many instructions.") var budget: UInt64 = Interpreter.Options().instructionBudget
    @Flag(help: "Bytecode is big-endian.") var bigEndian = false
    @Flag(help: "Print the result as JSON.") var json = false
    @Option(help: "With --pcap: the object's program to run (needed when it has more than one).") var program: String?
    @Option(help: "Run the object's program over every packet of this capture (pcap or pcapng).") var pcap: String?
    @Option(help: "With --pcap: write the packets the program kept, as it left them, to this pcap file.") var write: String?

    func validate() throws {
        if pcap == nil && (program != nil || write != nil) { throw ValidationError("--program and --write go with --pcap") }
        guard `repeat` >= 1 else { throw ValidationError("--repeat must be at least 1") }
        guard budget >= 1 else { throw ValidationError("--budget must be at least 1") }
        if mem != nil && memFile != nil { throw ValidationError("give --mem or --mem-file, not both") }
    }

    func run() throws {
        if let pcap {
            try PacketReplay(objectPath: file, programName: program, capturePath: pcap, outputPath: write, engine: engine, json: json).run()
            return
        }
        let input = try ProgramInput.load(path: file, format: format, syntax: syntax, order: bigEndian ? .big : .little)
        var memory = input.testFile?.memory ?? []
        if let mem { memory = try hexOption(mem, name: "--mem") }
        if let memFile { memory = try readFile(memFile) }

        let loaded: any Engine
        do {
            loaded = try engine.load(input.program, helpers: [ConformanceRunner.unwind], options: .init(instructionBudget: budget))
        } catch {
            throw CommandError("\(file): \(error)")
        }
        let original = memory
        var result: UInt64 = 0
        let clock = ContinuousClock()
        let start = clock.now
        do {
            for _ in 0..<`repeat` { result = try loaded.run(memory: &memory) }
        } catch {
            throw CommandError("\(file): \(error)")
        }
        let elapsed = clock.now - start
        let nanoseconds = Double(elapsed.components.seconds) * 1e9 + Double(elapsed.components.attoseconds) / 1e9
        let perRun = nanoseconds / Double(`repeat`)

        if json {
            var fields = ["\"r0\": \"0x\(String(result, radix: 16))\"", "\"instructions\": \(loaded.executedInstructions)"]
            if `repeat` > 1 { fields += ["\"runs\": \(`repeat`)", "\"ns_per_run\": \(Int(perRun.rounded()))"] }
            if memory != original { fields.append("\"memory\": \"\(Hex.string(memory))\"") }
            print("{" + fields.joined(separator: ", ") + "}")
        } else {
            print("0x" + String(result, radix: 16))
            if `repeat` > 1 {
                print("duration (average): \(Int(perRun.rounded())) ns over \(`repeat`) runs, "
                      + "\(loaded.executedInstructions) instructions per run")
            }
        }
        if let expected = input.testFile?.expectedResult, expected != result {
            throw CommandError("\(file): r0 is 0x\(String(result, radix: 16)) but the file expects 0x\(String(expected, radix: 16))")
        }
        if let expected = input.testFile?.expectedError {
            throw CommandError("\(file): the run succeeded but the file expects an error (\(expected))")
        }
    }
}
