import BPFInstructions
import BPFVM

/// Interpreter speed: ns per run and per executed instruction on each benchmark program.
enum VMBenchmark {
    static func run() throws {
        print("suite vm: interpreter, checked memory access (release build)")
        print(pad("program", 42, left: true) + pad("instructions", 14) + pad("ns/run", 12) + pad("ns/instruction", 16))
        for benchmark in VMPrograms.all {
            let program = try Assembler.assemble(benchmark.assembly, syntax: .conformance)
            let interpreter = try Interpreter(program: program)
            var memory = benchmark.memory
            var sink: UInt64 = 0
            let perRun = try memory.withUnsafeMutableBytes { buffer in
                try measure { sink &+= try interpreter.run(memory: buffer) }
            }
            let instructions = interpreter.executedInstructions
            print(pad(benchmark.name, 42, left: true) + pad(String(instructions), 14)
                  + pad(format(perRun, decimals: 1), 12) + pad(format(perRun / Double(instructions), decimals: 3), 16))
            if sink == 0x5eed { print("") }  // keeps the result alive
        }
    }
}
