import BPFInstructions
import BPFVerifier

/// Runs only what the verifier proved safe: a program accepted in plain-memory mode, on
/// input of exactly the size the proof was made for, with the one helper that mode allows
/// (5, "unwind"). With the JIT, the generated code has no memory checks (`JITProgram`'s
/// verified mode); the interpreter keeps its checks.
public final class VerifiedEngine: Engine {
    public let verified: VerifiedProgram
    /// The input size the proof covers.
    public let memorySize: Int
    private let engine: any Engine

    public var program: Program { engine.program }
    public var executedInstructions: UInt64 { engine.executedInstructions }

    public init(_ verified: VerifiedProgram, engine kind: EngineKind = .preferred,
                options: Interpreter.Options = .init()) throws(VMError) {
        guard case .plainMemory(let size) = verified.kind else {
            throw VMError(.unsupported("the program was verified as \(verified.kind); the VM runs programs verified for plain memory"), pc: 0)
        }
        self.verified = verified
        memorySize = size
        switch kind {
        case .jit: engine = try JITProgram(verified: verified, options: options)
        case .interpreter: engine = try Interpreter(program: verified.program, helpers: [ConformanceRunner.unwind], options: options)
        }
    }

    public func run(memory: UnsafeMutableRawBufferPointer) throws(VMError) -> UInt64 {
        guard memory.count == memorySize else {
            throw VMError(.unsupported("the program was verified for \(memorySize) bytes of memory, not \(memory.count)"), pc: 0)
        }
        return try engine.run(memory: memory)
    }

    public func run(context: UnsafeMutableRawPointer, input: UnsafeMutableRawBufferPointer) throws(VMError) -> UInt64 {
        throw VMError(.unsupported("the program was verified for plain memory, not for a context"), pc: 0)
    }
}
