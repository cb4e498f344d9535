import BPFInstructions

/// What runs a program: the `Interpreter` or the `JITProgram`. Both check every memory
/// access against the same regions and give the same results and the same errors.
public protocol Engine: AnyObject {
    var program: BPFInstructions.Program { get }
    /// Instructions executed by the last run, whether it finished or failed.
    var executedInstructions: UInt64 { get }
    /// Runs with r1 = the address of `memory` and r2 = its length; returns r0.
    func run(memory: UnsafeMutableRawBufferPointer) throws(VMError) -> UInt64
    /// Runs with r1 = `context` (a program type's context structure, which must lie in the
    /// engine's regions for checked runs) and `input` as the packet that legacy packet loads
    /// read and that checked runs may access; returns r0.
    func run(context: UnsafeMutableRawPointer, input: UnsafeMutableRawBufferPointer) throws(VMError) -> UInt64
}

extension Engine {
    /// Runs with r1 = the address of `memory` and r2 = its length; returns r0.
    public func run(memory: inout [UInt8]) throws(VMError) -> UInt64 {
        var result: Result<UInt64, VMError> = .success(0)
        memory.withUnsafeMutableBytes { buffer in
            do throws(VMError) { result = .success(try run(memory: buffer)) } catch { result = .failure(error) }
        }
        return try result.get()
    }

    /// Runs with no input memory: r1 = r2 = 0.
    public func run() throws(VMError) -> UInt64 {
        try run(memory: UnsafeMutableRawBufferPointer(start: nil, count: 0))
    }
}

/// The two ways to run a program.
public enum EngineKind: String, Sendable, CaseIterable {
    /// Decodes once and dispatches per instruction; runs on any processor.
    case interpreter
    /// Compiles to machine code (x86-64), with the same checks in the generated code.
    case jit

    /// The JIT where it has a back end (x86-64): it gives the same answers with the same
    /// checks and runs loops and packet parsing 2 to 8 times faster, for a compile cost of
    /// about 10 µs for a small program (`swiftbpf-bench jit`). The interpreter everywhere else.
    public static var preferred: EngineKind {
        #if arch(x86_64)
        .jit
        #else
        .interpreter
        #endif
    }

    /// Prepares `program` for this engine.
    public func load(_ program: BPFInstructions.Program, helpers: [Helper] = [],
                     options: Interpreter.Options = .init(), regions: [MemoryRegion] = []) throws(VMError) -> any Engine {
        switch self {
        case .interpreter: try Interpreter(program: program, helpers: helpers, options: options, regions: regions)
        case .jit: try JITProgram(program: program, helpers: helpers, options: options, regions: regions)
        }
    }
}
