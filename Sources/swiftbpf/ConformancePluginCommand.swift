import ArgumentParser
import BPFInstructions
import BPFVM
import Foundation

/// The plugin protocol of the public BPF conformance runner (bpf_conformance_runner
/// --plugin_path ...): program bytes in base16 on standard input (or --program), input
/// memory in base16 as the first argument, r0 in hex on standard output.
struct ConformancePluginCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "conformance-plugin",
        abstract: "Act as a plugin of the BPF conformance suite's runner.",
        discussion: """
            Reads the program as base16 bytes from standard input, runs it with the optional \
            base16 MEMORY, and prints r0 in hex. On any failure it prints the reason on \
            standard error and exits non-zero. With --jit the program is compiled to machine \
            code and run there, with the same checks. Example:
              bpf_conformance_runner --test_file_directory tests --plugin_path swiftbpf \\
                --plugin_options conformance-plugin
            """)

    @Argument(help: "Input memory in base16 (may be empty).") var memory: String = ""
    @Option(help: "The program in base16, instead of standard input.") var program: String?
    @Flag(help: "Print the disassembly on standard error before running.") var debug = false
    @Flag(help: "Run the program with the JIT instead of the interpreter.") var jit = false

    func run() throws {
        let text = program ?? String(decoding: FileHandle.standardInput.readDataToEndOfFile(), as: UTF8.self)
        let code: Program
        do { code = try Program(bytes: try hexOption(text, name: "program")) } catch let error as CommandError {
            throw error
        } catch {
            throw CommandError("program: \(error)")
        }
        if debug { printError(Disassembler.disassemble(code, syntax: .conformance)) }
        switch ConformanceRunner.run(code, memory: try hexOption(memory, name: "memory"),
                                      engine: jit ? .jit : .interpreter) {
        case .returned(let value): print(String(value, radix: 16))
        case .failed(let message): throw CommandError(message)
        }
    }
}
