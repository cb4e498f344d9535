import BPFInstructions

/// Runs tests in the conformance suite's `.data` format, with the helper the suite expects.
public enum ConformanceRunner {
    /// Helper 5 of the conformance suite, "unwind": returns r1, and when r1 is 0 the program
    /// ends at once with r0 = 0 (the suite's test of a helper stopping a program).
    public static let unwind = Helper(id: 5, name: "unwind") { call throws(VMError) in
        if call.r1 == 0 { call.stopsProgram = true }
        return call.r1
    }

    public enum Outcome: Sendable, Hashable {
        case returned(UInt64)
        /// The program was refused or the run failed; the message says why.
        case failed(String)
    }

    /// Builds, loads and runs the file's program on its memory.
    public static func run(_ file: ConformanceTestFile, options: Interpreter.Options = .init(),
                           engine: EngineKind = .interpreter) -> Outcome {
        let program: Program
        do { program = try file.program() } catch { return .failed(error.description) }
        return run(program, memory: file.memory, options: options, engine: engine)
    }

    public static func run(_ program: Program, memory: [UInt8], options: Interpreter.Options = .init(),
                           engine: EngineKind = .interpreter) -> Outcome {
        do throws(VMError) {
            let loaded = try engine.load(program, helpers: [unwind], options: options)
            var memory = memory
            return .returned(try loaded.run(memory: &memory))
        } catch {
            return .failed(error.description)
        }
    }

    /// Whether `outcome` is what the file expects, judged as the public suite's runner does:
    /// a failure passes only when the file expects an error whose text occurs in the message
    /// (an empty `-- error` expects none); a value passes when it equals `-- result`.
    public static func passes(_ file: ConformanceTestFile, _ outcome: Outcome) -> Bool {
        let expectedError = file.expectedError.flatMap { $0.isEmpty ? nil : $0 }
        switch outcome {
        case .returned(let value):
            return expectedError == nil && file.expectedResult == value
        case .failed(let message):
            guard let expectedError else { return false }
            return message.contains(expectedError)
        }
    }
}
