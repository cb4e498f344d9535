import ArgumentParser
import BPFInstructions
import BPFObject

struct DisassembleCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "disasm",
        abstract: "Disassemble eBPF bytecode or the programs of a BPF object file.",
        discussion: """
            Prints one instruction per line with its slot index, as bpftool does; --plain leaves \
            the indexes out, so that the output assembles back to the same bytes.

            When FILE is an ELF object (clang -target bpf), each program is printed as libbpf \
            links it, with its subprograms appended, map, variable and function names in place \
            of relocations (r1 = map[counts] ll, call my_subprog), and — when the object has \
            BTF line info (-g) — the C source lines as '; ...' comments. --program picks one.

            Examples:
              swiftbpf disasm prog.bin
              swiftbpf disasm prog.bpf.o --program handle_exec
            """)

    @Argument(help: "Bytecode file, 8 bytes an instruction, or a BPF object file ('-' for standard input).") var file: String
    @Option(help: "Assembly syntax: conformance or kernel.") var syntax: AssemblySyntax = .kernel
    @Flag(help: "Read big-endian bytecode (object files say their own byte order).") var bigEndian = false
    @Flag(help: "Leave out slot indexes.") var plain = false
    @Option(help: "Only this program of an object file.") var program: String?

    func run() throws {
        let bytes = try readFile(file)
        if bytes.starts(with: [0x7f, 0x45, 0x4c, 0x46]) {
            try disassembleObject(bytes)
            return
        }
        if program != nil { throw CommandError("\(file): --program needs an ELF object file") }
        let code: Program
        do { code = try Program(bytes: bytes, order: bigEndian ? .big : .little) } catch {
            throw CommandError("\(file): \(error)")
        }
        if plain {
            print(Disassembler.disassemble(code, syntax: syntax), terminator: "")
            return
        }
        let width = String(code.slots.count - 1).count
        for (index, instruction) in code.instructions {
            let number = String(index)
            print(String(repeating: " ", count: width - number.count) + number + ": "
                  + Disassembler.text(of: instruction, syntax: syntax))
        }
    }

    private func disassembleObject(_ bytes: [UInt8]) throws {
        let object: ObjectFile
        do { object = try ObjectFile(parsing: bytes, name: ObjectFile.defaultName(forPath: file)) } catch {
            throw CommandError("\(file): \(error)")
        }
        var programs = object.programs
        if let program {
            programs = programs.filter { $0.name == program }
            guard !programs.isEmpty else {
                let names = object.programs.map(\.name).joined(separator: ", ")
                throw CommandError("\(file): no program named '\(program)' (programs: \(names.isEmpty ? "none" : names))")
            }
        }
        var output = ""
        for (position, spec) in programs.enumerated() {
            if position > 0 { output += "\n" }
            output += "\(spec.name) (section \(spec.sectionName), \(spec.type.kernelName), \(spec.instructions.count) instructions):\n"
            for line in ObjectDisassembler.lines(of: spec, in: object, syntax: syntax) {
                switch line {
                case .function(let name):
                    if !plain { output += "<\(name)>:\n" }
                case .source(let source):
                    if !plain { output += "; \(source)\n" }
                case .instruction(let index, let text):
                    if plain {
                        output += text + "\n"
                    } else {
                        let number = String(index)
                        let width = String(max(spec.instructions.count - 1, 0)).count
                        output += String(repeating: " ", count: max(0, width - number.count)) + number + ": " + text + "\n"
                    }
                }
            }
        }
        print(output, terminator: "")
    }
}
