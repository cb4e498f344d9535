import BPFInstructions
import BPFVerifier

/// Runs only what the verifier proved safe: a program accepted in plain-memory mode, on
/// input of exactly the size the proof was made for, with the one helper that mode allows
/// (5, "unwind"). The engine underneath still checks every access, so a gap in the proof
/// shows as an error rather than harm; dropping those checks for verified programs is the
/// JIT's next step.
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
        engine = try kind.load(verified.program, helpers: [ConformanceRunner.unwind], options: options)
    }

    public func run(memory: UnsafeMutableRawBufferPointer) throws(VMError) -> UInt64 {
        guard memory.count == memorySize else {
            throw VMError(.unsupported("the program was verified for \(memorySize) bytes of memory, not \(memory.count)"), pc: 0)
        }
        return try engine.run(memory: memory)
    }
}
