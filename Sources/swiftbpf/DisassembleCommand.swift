import ArgumentParser
import BPFInstructions

struct DisassembleCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "disasm",
        abstract: "Disassemble eBPF bytecode into assembly text.",
        discussion: """
            Prints one instruction per line with its slot index, as bpftool does; --plain leaves \
            the indexes out, so that the output assembles back to the same bytes.
            """)

    @Argument(help: "Bytecode file, 8 bytes an instruction ('-' for standard input).") var file: String
    @Option(help: "Assembly syntax: conformance or kernel.") var syntax: AssemblySyntax = .kernel
    @Flag(help: "Read big-endian bytecode.") var bigEndian = false
    @Flag(help: "Leave out slot indexes.") var plain = false

    func run() throws {
        let input = try ProgramInput.load(path: file, format: .raw, syntax: nil, order: bigEndian ? .big : .little)
        if plain {
            print(Disassembler.disassemble(input.program, syntax: syntax), terminator: "")
            return
        }
        let width = String(input.program.slots.count - 1).count
        for (index, instruction) in input.program.instructions {
            let number = String(index)
            print(String(repeating: " ", count: width - number.count) + number + ": "
                  + Disassembler.text(of: instruction, syntax: syntax))
        }
    }
}
