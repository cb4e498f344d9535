import BPFInstructions
import BPFVerifier
@testable import BPFVM
import Foundation
import Testing

/// The JIT charges the budget per block, a loop header together with the block it falls into,
/// and lets a block begin with an access that may fault. Whatever budget a run gets, it must
/// stop where the interpreter stops: same error and pc, same memory, same instruction count.
@Suite struct JITBudgetTests {
    struct Case: CustomTestStringConvertible, Sendable {
        var name: String
        var assembly: String
        var memory: [UInt8]
        var testDescription: String { name }
    }

    /// Sums bytes up to a zero byte, writing the running sum back: the header loads.
    static let sumToZero = """
        mov %r0, 0
        loop:
        ldxb %r4, [%r1]
        jeq %r4, 0, done
        add %r0, %r4
        stxb [%r1], %r0
        add %r1, 1
        ja loop
        done:
        exit
        """

    static let cases: [Case] = [
        Case(name: "loop that stores, then loads, each byte",
             assembly: TestData.byteLoop.replacingOccurrences(of: "ldxb", with: "stxb [%r1], %r0\nldxb"),
             memory: (0..<12).map { UInt8($0 * 7 + 1) }),
        Case(name: "loop that reads one byte past the end", assembly: TestData.byteLoop.replacingOccurrences(of: "jge", with: "jgt"),
             memory: (0..<10).map { UInt8($0 + 3) }),
        Case(name: "header that loads, up to a zero byte", assembly: sumToZero, memory: [5, 3, 7, 9, 0, 4]),
        Case(name: "header that loads, with no zero byte", assembly: sumToZero, memory: [5, 3, 7, 9]),
    ]

    struct Outcome: Equatable {
        var result: Result<UInt64, VMError>
        var memory: [UInt8]
        var executed: UInt64

        static func == (a: Outcome, b: Outcome) -> Bool {
            guard a.memory == b.memory, a.executed == b.executed else { return false }
            switch (a.result, b.result) {
            case (.success(let x), .success(let y)): return x == y
            case (.failure(let x), .failure(let y)): return JITTests.same(x, y)
            default: return false
            }
        }
    }

    /// Runs on `original` copied into `buffer`: both engines see the input at one address.
    static func outcome(_ engine: some Engine, _ original: [UInt8], _ buffer: UnsafeMutableRawBufferPointer) -> Outcome {
        buffer.copyBytes(from: original)
        let result: Result<UInt64, VMError>
        do throws(VMError) { result = .success(try engine.run(memory: buffer)) } catch { result = .failure(error) }
        return Outcome(result: result, memory: Array(buffer), executed: engine.executedInstructions)
    }

    @Test(arguments: cases)
    func everyBudgetStopsWhereTheInterpreterStops(_ test: Case) throws {
        let program = try Assembler.assemble(test.assembly, syntax: .conformance)
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: test.memory.count, alignment: 8)
        defer { buffer.deallocate() }
        let whole = Self.outcome(try Interpreter(program: program), test.memory, buffer)
        var budgetFaults = 0
        for budget in 0...(whole.executed + 2) {
            let options = Interpreter.Options(instructionBudget: budget)
            let interpreted = Self.outcome(try Interpreter(program: program, options: options), test.memory, buffer)
            let compiled = Self.outcome(try JITProgram(program: program, options: options), test.memory, buffer)
            #expect(interpreted == compiled, "budget \(budget): interpreter \(interpreted), JIT \(compiled)")
            if case .failure(let error) = interpreted.result, error.kind == .instructionBudgetExhausted(budget: budget) {
                budgetFaults += 1
            }
        }
        // Every budget below the whole run's count ends it early.
        #expect(budgetFaults == Int(whole.executed))
    }

    /// Verified mode drops the access checks, not the budget.
    @Test func verifiedByteLoopStopsWhereTheInterpreterStops() throws {
        let test = Self.cases[0]
        let program = try Assembler.assemble(test.assembly, syntax: .conformance)
        let verified = try Verifier.verify(program, as: .plainMemory(size: test.memory.count))
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: test.memory.count, alignment: 8)
        defer { buffer.deallocate() }
        let whole = Self.outcome(try Interpreter(program: program), test.memory, buffer)
        #expect((try? whole.result.get()) != nil, "\(whole)")
        for budget in 0...(whole.executed + 2) {
            let options = Interpreter.Options(instructionBudget: budget)
            let interpreted = Self.outcome(try Interpreter(program: program, options: options), test.memory, buffer)
            let compiled = Self.outcome(try JITProgram(verified: verified, options: options), test.memory, buffer)
            #expect(interpreted == compiled, "budget \(budget): interpreter \(interpreted), JIT \(compiled)")
        }
    }
}
