import BPFInstructions
@testable import BPFVM
import Foundation
import Testing

/// The JIT against the interpreter, its reference: the public conformance suite, the
/// project's fixtures, random programs compared result by result, and the API's errors.
@Suite struct JITTests {
    static let conformance = TestData.shared.appendingPathComponent("conformance/bpf_conformance")

    @Test func publicConformanceSuite() throws {
        let tests = TestData.files(in: Self.conformance.appendingPathComponent("tests"), suffix: ".data")
        let negative = TestData.files(in: Self.conformance.appendingPathComponent("negative"), suffix: ".data")
        if tests.isEmpty {
            #expect(!TestData.sharedDataRequired, "conformance suite not found at \(Self.conformance.path)")
            print("JIT conformance: skipped, suite not found at \(Self.conformance.path)")
            return
        }
        var passed = 0
        for url in tests {
            let file = try ConformanceTestFile(parsing: try TestData.text(url))
            let outcome = ConformanceRunner.run(file, engine: .jit)
            if ConformanceRunner.passes(file, outcome) { passed += 1 } else { Issue.record("\(url.lastPathComponent): \(outcome)") }
        }
        var refused = 0
        for url in negative {
            guard let file = try? ConformanceTestFile(parsing: try TestData.text(url)) else { refused += 1; continue }
            let outcome = ConformanceRunner.run(file, engine: .jit)
            if ConformanceRunner.passes(file, outcome) { Issue.record("negative/\(url.lastPathComponent) passed") } else { refused += 1 }
        }
        #expect(passed == tests.count && refused == negative.count)
        print("JIT conformance: \(passed) of \(tests.count) passed, \(refused) of \(negative.count) negative refused")
    }

    @Test(arguments: FixtureTests.files.map(\.lastPathComponent))
    func fixture(_ name: String) throws {
        let file = try ConformanceTestFile(parsing: try TestData.text(TestData.fixtures.appendingPathComponent(name)))
        let outcome = ConformanceRunner.run(file, options: .init(instructionBudget: 10_000_000), engine: .jit)
        #expect(ConformanceRunner.passes(file, outcome), "\(name): \(outcome)")
    }

    /// Thousands of generated programs run in both engines on the same input buffer: the same
    /// r0, the same memory afterwards, the same error (kind, pc, instruction; an address in
    /// the stack compared by its distance from the stack's top) and the same count of
    /// executed instructions. Programs whose outcome may depend on where the stack is (they
    /// read r10 as a value, even in a comparison) only have to run in both.
    @Test func randomProgramsAgreeWithTheInterpreter() throws {
        var random = SeededGenerator(seed: 0x11e_5eed)
        var counts = (returned: 0, failed: 0, refused: 0, stackDependent: 0)
        var errorKinds = Set<String>()
        // The input sits in the middle of 128 KiB of its own, so that r1 plus any 16-bit
        // offset stays inside it: otherwise such an access may land in one engine's stack
        // (valid there) and not the other's, depending on where the allocator put them.
        let region = UnsafeMutableRawBufferPointer.allocate(byteCount: 128 * 1024, alignment: 8)
        defer { region.deallocate() }
        let buffer = UnsafeMutableRawBufferPointer(rebasing: region[(64 * 1024)..<(64 * 1024 + 64)])
        for round in 0..<40_000 {
            let program = try RandomProgram.make(count: Int.random(in: 1...32, using: &random), using: &random)
            let options = Interpreter.Options(instructionBudget: [50, 5_000][round % 2])
            let helpers = [ConformanceRunner.unwind]
            let first: Interpreter
            do {
                first = try Interpreter(program: program, helpers: helpers, options: options)
            } catch {
                #expect(throws: VMError.self) { try JITProgram(program: program, helpers: helpers, options: options) }
                counts.refused += 1
                continue
            }
            let jit = try JITProgram(program: program, helpers: helpers, options: options)
            let original = (0..<64).map { _ in UInt8.random(in: 0...255, using: &random) }
            let expected = run(first, original, buffer)
            let actual = run(jit, original, buffer)
            if program.readsFramePointer {
                counts.stackDependent += 1  // ran in both without harm; what it computes depends on where the stack is
                continue
            }
            let text = Disassembler.disassemble(program, syntax: .kernel)
            #expect(Self.same(expected, actual), "interpreter \(expected) vs JIT \(actual) for\n\(text)")
            #expect(jit.executedInstructions == first.executedInstructions, "instruction count differs for\n\(text)")
            switch expected.result {
            case .success: counts.returned += 1
            case .failure(let error):
                errorKinds.insert(String("\(error.kind)".prefix { $0 != "(" }))
                counts.failed += 1
            }
        }
        print("JIT differential: \(counts.returned) returned alike, \(counts.failed) failed alike "
              + "(\(errorKinds.sorted().joined(separator: ", "))), \(counts.refused) refused by both, "
              + "\(counts.stackDependent) depend on the stack's address")
        #expect(counts.returned > 2_000 && counts.failed > 2_000 && counts.stackDependent < 8_000)
    }

    private struct Run {
        var result: Result<UInt64, VMError>
        var memory: [UInt8]
    }

    private func run(_ engine: some Engine, _ original: [UInt8], _ buffer: UnsafeMutableRawBufferPointer) -> Run {
        buffer.copyBytes(from: original)
        let result: Result<UInt64, VMError>
        do throws(VMError) { result = .success(try engine.run(memory: buffer)) } catch { result = .failure(error) }
        return Run(result: result, memory: Array(buffer))
    }

    private static func same(_ a: Run, _ b: Run) -> Bool {
        guard a.memory == b.memory else { return false }
        switch (a.result, b.result) {
        case (.success(let x), .success(let y)): return x == y
        case (.failure(let x), .failure(let y)): return same(x, y)
        default: return false
        }
    }

    /// Stacks live at different addresses in different engines; everything else must match.
    static func same(_ a: VMError, _ b: VMError) -> Bool {
        guard a.pc == b.pc, a.instruction == b.instruction else { return false }
        guard case .outOfBounds(let addressA, let sizeA, let writeA) = a.kind,
              case .outOfBounds(let addressB, let sizeB, let writeB) = b.kind else { return a.kind == b.kind }
        let topA = a.regions.first { $0.name == "stack" }.map { $0.start &+ UInt64($0.count) } ?? 0
        let topB = b.regions.first { $0.name == "stack" }.map { $0.start &+ UInt64($0.count) } ?? 0
        let names = { (error: VMError) in error.regions.map { "\($0.name) \($0.count)" } }
        return sizeA == sizeB && writeA == writeB && names(a) == names(b)
            && (addressA == addressB || addressA &- topA == addressB &- topB)
    }

    @Test func budgetStopsAtTheInterpretersInstruction() throws {
        // A 3-instruction loop body charged per block: the budget runs out mid-block.
        let loop = try buildProgram {
            $0.append(.arithmetic(.mov, .bits64, dst: .r0, source: .immediate(0)))
            $0.bind("top")
            $0.append(.arithmetic(.add, .bits64, dst: .r0, source: .immediate(1)))
            $0.append(.arithmetic(.add, .bits64, dst: .r0, source: .immediate(2)))
            $0.jump(to: "top")
        }
        for budget: UInt64 in [1, 2, 3, 4, 5, 1000, 1001] {
            let jit = try JITProgram(program: loop, options: .init(instructionBudget: budget))
            let interpreter = try Interpreter(program: loop, options: .init(instructionBudget: budget))
            let a = #expect(throws: VMError.self) { try interpreter.run() }
            let b = #expect(throws: VMError.self) { try jit.run() }
            #expect(a == b)
            #expect(b?.kind == .instructionBudgetExhausted(budget: budget))
            #expect(jit.executedInstructions == budget)
        }
    }

    @Test func localCallsHaveFramesAndADepthLimit() throws {
        let frames = try buildProgram {
            $0.append(.store(.double, base: .r10, offset: -8, source: .immediate(1)))
            $0.callLocal("f")
            $0.append(.load(.double, dst: .r0, base: .r10, offset: -8))
            $0.append(.exit)
            $0.bind("f")
            $0.append(.store(.double, base: .r10, offset: -8, source: .immediate(2)))
            $0.append(.arithmetic(.mov, .bits64, dst: .r0, source: .register(.r10)))
            $0.append(.exit)
        }
        #expect(try JITProgram(program: frames).run() == 1)

        let endless = try buildProgram {
            $0.bind("f")
            $0.callLocal("f")
            $0.append(.exit)
        }
        let error = #expect(throws: VMError.self) { try JITProgram(program: endless).run() }
        #expect(error?.kind == .callDepthExceeded(limit: Interpreter.maxCallDepth))
        #expect(error?.pc == 0)
    }

    @Test func divisionNeverTraps() throws {
        let cases: [(String, UInt64)] = [
            ("lddw %r0, 0x8000000000000000\nmov %r1, -1\nsdiv %r0, %r1\nexit", 0x8000_0000_0000_0000),
            ("lddw %r0, 0x8000000000000000\nmov %r1, -1\nsmod %r0, %r1\nexit", 0),
            ("mov32 %r0, 0x80000000\nsdiv32 %r0, -1\nexit", 0x8000_0000),
            ("mov %r0, 7\nmov %r1, 0\ndiv %r0, %r1\nexit", 0),
            ("lddw %r0, 0x100000007\nmov %r1, 0\nmod32 %r0, %r1\nexit", 7),
            ("mov %r0, -7\nmov %r3, 2\nsmod %r0, %r3\nexit", UInt64(bitPattern: -1)),
        ]
        for (text, expected) in cases {
            let program = try Assembler.assemble(text, syntax: .conformance)
            #expect(try JITProgram(program: program).run() == expected, "\(text)")
        }
    }

    /// Every atomic with r0 (which cmpxchg and the fetch loops use themselves), r1 and r6 as
    /// base and source, on the stack and on the input: the same registers and memory after.
    @Test func atomicsAgreeForEveryRegisterRole() throws {
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 32, alignment: 8)
        defer { buffer.deallocate() }
        var compared = 0
        for operation in AtomicOperation.allCases {
            for size in [MemorySize.word, .double] {
                for (base, source) in [(Register.r0, Register.r0), (.r0, .r1), (.r1, .r0), (.r6, .r1), (.r1, .r6), (.r10, .r1)] {
                    let program = try buildProgram {
                        if base != .r10 { $0.append(.arithmetic(.mov, .bits64, dst: base, source: .register(.r1))) }
                        $0.append(.loadImmediate64(dst: .r0, source: .immediate, imm: 0x0f0f_0f0f, nextImm: 0x3333_3333))
                        if base == .r0 { $0.append(.arithmetic(.mov, .bits64, dst: .r0, source: .register(.r1))) }
                        if source != .r0 && source != base {
                            $0.append(.loadImmediate64(dst: source, source: .immediate, imm: 0x00ff_00ff, nextImm: 0x7777_0000))
                        }
                        if base == .r10 { $0.append(.store(.double, base: .r10, offset: -16, source: .immediate(0x0f0f_0f0f))) }
                        $0.append(.atomic(operation, size, base: base, offset: base == .r10 ? -16 : 8, source: source))
                        // r0 + 3 * source + 7 * r6 + the memory word: every value the atomic may write.
                        $0.append(.arithmetic(.mov, .bits64, dst: .r2, source: .register(source)))
                        $0.append(.arithmetic(.mul, .bits64, dst: .r2, source: .immediate(3)))
                        $0.append(.arithmetic(.add, .bits64, dst: .r0, source: .register(.r2)))
                        $0.append(.arithmetic(.mov, .bits64, dst: .r2, source: .register(.r6)))
                        $0.append(.arithmetic(.mul, .bits64, dst: .r2, source: .immediate(7)))
                        $0.append(.arithmetic(.add, .bits64, dst: .r0, source: .register(.r2)))
                        $0.append(.load(.double, dst: .r2, base: .r10, offset: -16))
                        $0.append(.arithmetic(.add, .bits64, dst: .r0, source: .register(.r2)))
                        $0.append(.exit)
                    }
                    // One buffer for both: r0 may hold its address.
                    let original = (0..<32).map { UInt8(truncatingIfNeeded: $0 &* 37 &+ 5) }
                    let interpreted = run(try Interpreter(program: program), original, buffer)
                    let compiled = run(try JITProgram(program: program), original, buffer)
                    #expect(Self.same(interpreted, compiled), "\(operation) \(size) base \(base) source \(source)")
                    compared += 1
                }
            }
        }
        #expect(compared == 10 * 2 * 6)
    }

    @Test func codeIsNeverWritableAndExecutable() throws {
        let jit = try JITProgram(program: try Program([.exit]))
        #if os(Linux)
        // procfs reports size 0, so read to the end rather than by size.
        let maps = String(decoding: FileHandle(forReadingAtPath: "/proc/self/maps")?.readDataToEndOfFile() ?? Data(), as: UTF8.self)
        let start = try #require(jit.codeAddress)
        let line = maps.split(separator: "\n").first { line in
            let range = line.prefix { $0 != " " }.split(separator: "-").compactMap { UInt(String($0), radix: 16) }
            return range.count == 2 && range[0] <= start && start < range[1]
        }
        #expect(line?.split(separator: " ")[1].hasPrefix("r-x") == true, "\(String(describing: line))")
        #endif
    }
}
