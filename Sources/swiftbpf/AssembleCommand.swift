import ArgumentParser
import BPFInstructions

struct AssembleCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "asm",
        abstract: "Assemble eBPF assembly text into bytecode.",
        discussion: """
            Both syntaxes are understood: the conformance suite's (mov %r0, 1 / ldxdw %r0, [%r1+8]) \
            and the kernel's, as llvm-objdump and bpftool print it (r0 = 1 / r0 = *(u64 *)(r1 + 8)). \
            The syntax is detected unless --syntax is given. Without -o, the bytecode is printed \
            as hex, one instruction slot per line.
            """)

    @Argument(help: "Assembly file ('-' for standard input).") var file: String
    @Option(name: .shortAndLong, help: "Write the bytecode to this file.") var output: String?
    @Option(help: "Assembly syntax: conformance or kernel (default: detected).") var syntax: AssemblySyntax?
    @Flag(help: "Encode big-endian bytecode (as for -target bpfeb).") var bigEndian = false

    func run() throws {
        let input = try ProgramInput.load(path: file, format: .asm, syntax: syntax, order: .little)
        let bytes = input.program.bytes(order: bigEndian ? .big : .little)
        if let output {
            try writeFile(output, bytes)
        } else {
            for slot in stride(from: 0, to: bytes.count, by: RawInstruction.byteCount) {
                print(bytes[slot..<slot + RawInstruction.byteCount].map { Hex.string([$0]) }.joined(separator: " "))
            }
        }
    }
}
