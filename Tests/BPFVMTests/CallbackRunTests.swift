import BPFInstructions
@testable import BPFVM
import Testing

/// Callbacks (bpf_loop) in both engines, checked mode, on hand-written programs: the callback
/// runs in a frame of its own, the caller's r6–r9 survive it, its instructions count against
/// the run's budget, and a fault or a call too deep inside it stops the run where the
/// interpreter and the JIT both say — same error, same pc, same instruction count.
@Suite struct CallbackRunTests {
    /// Sums 0..<r6 into a stack slot through bpf_loop; returns iterations * 1000 + sum, plus
    /// r6 * 1_000_000 after the loop (the callback clobbers its own r6).
    static let summing = """
        r6 = 10
        *(u64 *)(r10 - 8) = 0
        r1 = r6
        r2 = func[callback] ll
        r3 = r10
        r3 += -8
        r4 = 0
        call 181
        r0 *= 1000
        r1 = *(u64 *)(r10 - 8)
        r0 += r1
        r6 *= 1000000
        r0 += r6
        exit
        callback:
        r3 = *(u64 *)(r2 + 0)
        r3 += r1
        *(u64 *)(r2 + 0) = r3
        r6 = 99
        r0 = 0
        exit
        """

    static func engines(_ source: String, budget: UInt64 = 100_000_000) throws -> [any Engine] {
        let program = try Assembler.assemble(source, syntax: .kernel)
        let options = Interpreter.Options(instructionBudget: budget)
        return [try Interpreter(program: program, helpers: [KernelHelpers.loop], options: options),
                try JITProgram(program: program, helpers: [KernelHelpers.loop], options: options)]
    }

    static func outcome(_ engine: any Engine) -> (result: Result<UInt64, VMError>, executed: UInt64) {
        let result: Result<UInt64, VMError>
        do { result = .success(try engine.run()) } catch { result = .failure(error) }
        return (result, engine.executedInstructions)
    }

    @Test func loopRunsTheCallbackAndKeepsTheCallersRegisters() throws {
        for engine in try Self.engines(Self.summing) {
            let (result, executed) = Self.outcome(engine)
            #expect(try result.get() == 10 * 1000 + 45 + 10 * 1_000_000, "\(type(of: engine))")
            // 14 instructions in the caller (lddw counts once), 6 per iteration.
            #expect(executed == 14 + 10 * 6, "\(type(of: engine))")
        }
    }

    @Test func budgetStopsInsideTheCallbackWhereTheInterpreterStops() throws {
        let callbackStart = 15
        var stoppedInCallback = 0
        for budget in UInt64(1)...80 {
            let engines = try Self.engines(Self.summing, budget: budget)
            let (interpreted, jitted) = (Self.outcome(engines[0]), Self.outcome(engines[1]))
            #expect(interpreted.executed == jitted.executed, "budget \(budget)")
            switch (interpreted.result, jitted.result) {
            case (.success(let a), .success(let b)):
                #expect(a == b, "budget \(budget)")
            case (.failure(let a), .failure(let b)):
                #expect(a.kind == .instructionBudgetExhausted(budget: budget) && a == b, "budget \(budget): \(a) / \(b)")
                if let pc = a.pc, pc >= callbackStart { stoppedInCallback += 1 }
            default:
                Issue.record("budget \(budget): interpreter \(interpreted.result), JIT \(jitted.result)")
            }
        }
        #expect(stoppedInCallback > 40)
    }

    @Test func faultInsideTheCallbackStopsTheRunAtItsOwnPC() throws {
        // The callback reads through its index (0 the first time): a null pointer.
        let source = Self.summing.replacingOccurrences(of: "r3 = *(u64 *)(r2 + 0)", with: "r3 = *(u64 *)(r1 + 0)")
        let engines = try Self.engines(source)
        let (interpreted, jitted) = (Self.outcome(engines[0]), Self.outcome(engines[1]))
        guard case .failure(let a) = interpreted.result, case .failure(let b) = jitted.result else {
            Issue.record("expected faults: \(interpreted.result), \(jitted.result)")
            return
        }
        #expect(a.pc == 15 && a.kind == .outOfBounds(address: 0, size: 8, isWrite: false), "\(a)")
        #expect(JITTests.same(a, b), "\(a) / \(b)")
        #expect(interpreted.executed == jitted.executed && interpreted.executed == 9, "\(interpreted.executed) / \(jitted.executed)")
    }

    @Test func callbacksNestOnlyAsDeepAsLocalCalls() throws {
        // Each callback loops once more over itself: frames 1 to 7 exist, the eighth does not.
        let source = """
            r1 = 1
            r2 = func[callback] ll
            r3 = 0
            r4 = 0
            call 181
            exit
            callback:
            r1 = 1
            r2 = func[callback] ll
            r3 = 0
            r4 = 0
            call 181
            r0 = 0
            exit
            """
        let engines = try Self.engines(source)
        let (interpreted, jitted) = (Self.outcome(engines[0]), Self.outcome(engines[1]))
        guard case .failure(let a) = interpreted.result, case .failure(let b) = jitted.result else {
            Issue.record("expected faults: \(interpreted.result), \(jitted.result)")
            return
        }
        #expect(a == b && a.pc == 12 && a.kind == .callDepthExceeded(limit: Interpreter.maxCallDepth), "\(a) / \(b)")
        #expect(interpreted.executed == jitted.executed && interpreted.executed == 5 + 7 * 5)
    }

    @Test func loopRefusesFlagsCountsAndAddressesAsTheKernelDoes() throws {
        func run(_ count: String, _ callback: String, flags: Int) throws -> [Result<UInt64, VMError>] {
            let source = """
                r1 = \(count)
                r2 = \(callback)
                r3 = 0
                r4 = \(flags)
                call 181
                exit
                callback:
                r0 = 1
                exit
                """
            return try Self.engines(source).map { Self.outcome($0).result }
        }
        for result in try run("3", "func[callback] ll", flags: 1) { #expect(try result.get() == UInt64(bitPattern: -22)) }
        for result in try run("8388609", "func[callback] ll", flags: 0) { #expect(try result.get() == 0xffff_fff9) }
        for result in try run("8388608", "func[callback] ll", flags: 0) { #expect(try result.get() == 1, "stops after one") }
        for result in try run("0", "func[callback] ll", flags: 0) { #expect(try result.get() == 0) }
        for result in try run("2", "12345", flags: 0) {
            #expect(throws: VMError.self) { try result.get() }
            if case .failure(let error) = result {
                #expect(error.description == "pc 4 (call 181): helper 181 failed: the callback 0x3039 is not an instruction of the program")
            }
        }
    }
}
