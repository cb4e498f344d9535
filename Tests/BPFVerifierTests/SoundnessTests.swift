import BPFInstructions
import BPFVerifier
import BPFVM
import Testing

/// No unsound acceptance: every program the verifier accepts in plain-memory mode runs in the
/// interpreter, with all its run-time checks, over many random inputs without a single trap —
/// and the JIT's verified mode, which drops the memory checks on the strength of the proof,
/// gives the same result and leaves the same memory.
@Suite struct SoundnessTests {
    static let inputSize = 64

    @Test func acceptedRandomProgramsNeverTrap() throws {
        var random = SeededGenerator(seed: 0x5eed_7e51)
        var programs = 0, accepted = 0, runs = 0
        var traps: [String] = []
        var differences: [String] = []
        for round in 0..<10_000 {
            let program: Program
            if round % 3 == 0 {
                guard let made = try? RandomProgram.make(count: Int.random(in: 1...12, using: &random), using: &random) else { continue }
                program = made
            } else {
                program = try ValidLookingPrograms.make(count: Int.random(in: 4...40, using: &random), inputSize: Self.inputSize,
                                                        using: &random)
            }
            programs += 1
            guard let verified = try? Verifier.verify(program, as: .plainMemory(size: Self.inputSize)) else { continue }
            accepted += 1
            let interpreter = try Interpreter(program: verified.program, helpers: [ConformanceRunner.unwind])
            let jit = try JITProgram(verified: verified)
            for _ in 0..<20 {
                var memory = (0..<Self.inputSize).map { _ in UInt8.random(in: 0...255, using: &random) }
                var jitMemory = memory
                runs += 1
                let expected: UInt64
                do { expected = try interpreter.run(memory: &memory) } catch {
                    traps.append("\(error)\n\(Disassembler.disassemble(program, syntax: .kernel))")
                    break
                }
                let actual = Result { () throws(VMError) in try jit.run(memory: &jitMemory) }
                // A program that reads r10 as a value may compute with the stack's address.
                if jitMemory != memory || (!program.readsFramePointer && actual != .success(expected)) {
                    differences.append("interpreter \(expected), verified JIT \(actual)\n\(Disassembler.disassemble(program, syntax: .kernel))")
                    break
                }
            }
        }
        print("soundness: \(programs) programs, \(accepted) accepted, \(runs) runs, \(traps.count) traps, "
              + "\(differences.count) differences in the verified JIT")
        #expect(traps.isEmpty, "accepted programs trapped:\n\(traps.prefix(3).joined(separator: "\n---\n"))")
        #expect(differences.isEmpty, "the verified JIT differs:\n\(differences.prefix(3).joined(separator: "\n---\n"))")
        #expect(accepted >= 1000, "too few accepted programs (\(accepted)) for the test to mean something")
    }

    /// Pruning with precision tracking stays sound: branchy programs whose numbers become
    /// offsets, accepted with it, never trap; and it only ever accepts more, with less work.
    @Test func precisionPruningNeverTraps() throws {
        var random = SeededGenerator(seed: 0xb4a7c4)
        var accepted = 0, runs = 0, prunedMore = 0, lessWork = 0
        var traps: [String] = [], lost: [String] = []
        let size = BranchyPrograms.inputSize
        let interpreterHelpers = [ConformanceRunner.unwind]
        for _ in 0..<3_000 {
            let program = try BranchyPrograms.make(count: Int.random(in: 10...60, using: &random), using: &random)
            let plain = Result { () throws(Rejection) in
                try Verifier.verify(program, as: .plainMemory(size: size), options: .init(tracksPrecision: false))
            }
            guard let verified = try? Verifier.verify(program, as: .plainMemory(size: size)) else {
                if case .success = plain { lost.append(Disassembler.disassemble(program, syntax: .kernel)) }
                continue
            }
            accepted += 1
            if case .success(let exact) = plain {
                if verified.statistics.instructionsAnalysed < exact.statistics.instructionsAnalysed { lessWork += 1 }
            } else {
                prunedMore += 1
            }
            let interpreter = try Interpreter(program: program, helpers: interpreterHelpers)
            for _ in 0..<20 {
                var memory = (0..<size).map { _ in UInt8.random(in: 0...255, using: &random) }
                runs += 1
                do { _ = try interpreter.run(memory: &memory) } catch {
                    traps.append("\(error)\n\(Disassembler.disassemble(program, syntax: .kernel))")
                    break
                }
            }
        }
        print("precision soundness: 3000 branchy programs, \(accepted) accepted (\(prunedMore) only with precision, "
              + "\(lessWork) with less work), \(runs) runs, \(traps.count) traps")
        #expect(traps.isEmpty, "accepted programs trapped:\n\(traps.prefix(3).joined(separator: "\n---\n"))")
        #expect(lost.isEmpty, "accepted without precision tracking but not with it:\n\(lost.prefix(2).joined(separator: "\n---\n"))")
        #expect(accepted >= 300 && lessWork + prunedMore >= 100, "the programs do not exercise the pruning (\(accepted) accepted)")
    }
}
