import BPFInstructions
@testable import BPFVM
import Testing

/// The interpreter's API: helpers, memory regions, budgets and the errors they produce.
@Suite struct InterpreterTests {
    /// Both engines, through the one helper path: helpers read the program's memory and
    /// grant regions, r6 survives the calls, a read-only grant refuses a store, and a
    /// helper's failure ends the run with its message.
    @Test(arguments: EngineKind.allCases)
    func helpersSeeMemoryAndGrantRegions(_ kind: EngineKind) throws {
        let table = UnsafeMutableRawBufferPointer.allocate(byteCount: 16, alignment: 8)
        defer { table.deallocate() }
        table.storeBytes(of: 0x1122_3344_5566_7788, toByteOffset: 8, as: UInt64.self)
        let address = UInt64(UInt(bitPattern: table.baseAddress))
        let sum = Helper(id: 1, name: "sum") { call throws(VMError) in
            try call.memory(at: call.r1, count: Int(call.r2)).reduce(0) { $0 + UInt64($1) }
        }
        let lookup = Helper(id: 2, name: "lookup") { call throws(VMError) in
            call.grant(MemoryRegion(name: "table", start: address, count: 16, isWritable: false))
            return address
        }
        let program = try buildProgram {
            $0.append(.arithmetic(.mov, .bits64, dst: .r6, source: .immediate(5)))
            $0.append(.call(helper: 1))                                   // r0 = sum of input
            $0.append(.arithmetic(.add, .bits64, dst: .r6, source: .register(.r0)))
            $0.append(.call(helper: 2))                                   // r0 = &table
            $0.append(.load(.double, dst: .r1, base: .r0, offset: 8))
            $0.append(.arithmetic(.add, .bits64, dst: .r6, source: .register(.r1)))
            $0.append(.arithmetic(.mov, .bits64, dst: .r0, source: .register(.r6)))
            $0.append(.exit)
        }
        var memory: [UInt8] = [1, 2, 3, 4]
        #expect(try kind.load(program, helpers: [sum, lookup]).run(memory: &memory) == 15 + 0x1122_3344_5566_7788)

        // The granted region is read-only: a store to it fails, naming the write.
        let writer = try buildProgram {
            $0.append(.call(helper: 2))
            $0.append(.store(.byte, base: .r0, offset: 0, source: .immediate(1)))
            $0.append(.exit)
        }
        let error = #expect(throws: VMError.self) { try kind.load(writer, helpers: [lookup]).run() }
        #expect(error?.kind == .outOfBounds(address: address, size: 1, isWrite: true))
        #expect(error?.pc == 1)
        #expect(error?.regions.contains { $0.name == "table" } == true)
        #expect(error?.description.contains("out-of-bounds write of 1 byte") == true)

        let picky = Helper(id: 7, name: "picky") { call throws(VMError) in throw call.failure("r1 must be even") }
        let failing = try buildProgram { $0.append(.call(helper: 7)); $0.append(.exit) }
        let helperError = #expect(throws: VMError.self) { try kind.load(failing, helpers: [picky]).run() }
        #expect(helperError?.description == "pc 0 (\(describe(.call(helper: 7)))): helper 7 failed: r1 must be even")
    }

    @Test func helperErrorsStopTheRun() throws {
        let picky = Helper(id: 7, name: "picky") { call throws(VMError) in throw call.failure("r1 must be even") }
        let program = try buildProgram { $0.append(.call(helper: 7)); $0.append(.exit) }
        let error = #expect(throws: VMError.self) { try Interpreter(program: program, helpers: [picky]).run() }
        #expect(error?.description == "pc 0 (\(describe(.call(helper: 7)))): helper 7 failed: r1 must be even")
    }

    @Test func budgetStopsEndlessLoopsAndCountsInstructions() throws {
        let loop = try buildProgram {
            $0.bind("top")
            $0.jump(to: "top")
        }
        let interpreter = try Interpreter(program: loop, options: .init(instructionBudget: 1000))
        let error = #expect(throws: VMError.self) { try interpreter.run() }
        #expect(error?.kind == .instructionBudgetExhausted(budget: 1000))
        #expect(interpreter.executedInstructions == 1000)

        let counted = try buildProgram {
            $0.append(.arithmetic(.mov, .bits64, dst: .r0, source: .immediate(10)))
            $0.bind("top")
            $0.append(.arithmetic(.sub, .bits64, dst: .r0, source: .immediate(1)))
            $0.branch(.ne, dst: .r0, source: .immediate(0), to: "top")
            $0.append(.exit)
        }
        let counter = try Interpreter(program: counted)
        #expect(try counter.run() == 0)
        #expect(counter.executedInstructions == 1 + 10 * 2 + 1)
    }

    @Test func framePointerIsReadOnly() throws {
        let program = try buildProgram {
            $0.append(.arithmetic(.add, .bits64, dst: .r10, source: .immediate(8)))
            $0.append(.exit)
        }
        let error = #expect(throws: VMError.self) { try Interpreter(program: program) }
        #expect(error?.kind == .writesFramePointer)
        #expect(error?.pc == 0)
    }

    @Test func outOfBoundsErrorNamesAddressAndRegions() throws {
        let program = try buildProgram {
            $0.append(.load(.double, dst: .r0, base: .r1, offset: 4))
            $0.append(.exit)
        }
        var memory = [UInt8](repeating: 0, count: 8)
        let error = #expect(throws: VMError.self) { try Interpreter(program: program).run(memory: &memory) }
        let address = memory.withUnsafeBytes { UInt64(UInt(bitPattern: $0.baseAddress)) } + 4
        #expect(error?.kind == .outOfBounds(address: address, size: 8, isWrite: false))
        #expect(error?.description.contains("valid: stack") == true)
        #expect(error?.description.contains("input") == true)
    }

    @Test func eachFrameHasItsOwnStack() throws {
        // main writes 1 at r10-8, calls f which writes 2 at its own r10-8 and returns the
        // address; main reads its own slot (still 1) and the dead frame's address faults.
        let program = try buildProgram {
            $0.append(.store(.double, base: .r10, offset: -8, source: .immediate(1)))
            $0.callLocal("f")
            $0.append(.arithmetic(.mov, .bits64, dst: .r6, source: .register(.r0)))
            $0.append(.load(.double, dst: .r0, base: .r10, offset: -8))
            $0.append(.exit)
            $0.bind("f")
            $0.append(.store(.double, base: .r10, offset: -8, source: .immediate(2)))
            $0.append(.arithmetic(.mov, .bits64, dst: .r0, source: .register(.r10)))
            $0.append(.exit)
        }
        #expect(try Interpreter(program: program).run() == 1)
    }

    @Test func unsupportedReferencesAreRefusedUpFront() throws {
        let mapReference = try Program([.loadImmediate64(dst: .r1, source: .mapFD, imm: 3, nextImm: 0), .exit])
        let error = #expect(throws: VMError.self) { try Interpreter(program: mapReference) }
        #expect(error?.description.contains("needs a runtime with maps") == true)

        let kernelCall = try Program([.callKernelFunction(btfID: 1234, module: 0), .exit])
        let runError = #expect(throws: VMError.self) { try Interpreter(program: kernelCall).run() }
        #expect(runError?.description.contains("kernel function") == true)
    }

    @Test func storesReachTheCallersMemory() throws {
        let program = try buildProgram {
            $0.append(.store(.word, base: .r1, offset: 0, source: .immediate(0x0102_0304)))
            $0.append(.arithmetic(.mov, .bits64, dst: .r0, source: .immediate(0)))
            $0.append(.exit)
        }
        var memory = [UInt8](repeating: 0, count: 4)
        _ = try Interpreter(program: program).run(memory: &memory)
        #expect(memory == [4, 3, 2, 1])
    }

    /// Random instruction streams: whatever decodes must run to a value or a VMError,
    /// never crash the test process. Slots are drawn until they decode, with jump offsets
    /// kept inside the program, so most programs get to run.
    @Test func randomProgramsNeverCrashTheHost() throws {
        var random = SeededGenerator(seed: 0x5eed)
        var ran = 0, failed = 0
        for _ in 0..<20_000 {
            let count = Int(random.next() % 24) + 2
            var slots: [RawInstruction] = []
            while slots.count < count - 1 {
                let bits = random.next()
                let reach = Int64(count)
                let jump = Int16(Int64(bits >> 33) % reach - Int64(slots.count) - 1)
                let imm: Int32 = switch bits & 3 {
                case 0: Int32(truncatingIfNeeded: bits >> 8)
                case 1: Int32((bits >> 8) % 64)
                default: [16, 32, 64, 0, 1, -1, 8][Int((bits >> 8) % 7)]
                }
                let register = { (shift: UInt64) -> UInt8 in
                    UInt8(truncatingIfNeeded: bits >> shift) & 0x10 == 0 ? 0 : UInt8((bits >> shift) % 10)
                }
                let isJump = (bits >> 16) & 7 == 5 || (bits >> 16) & 7 == 6
                var raw = RawInstruction(opcode: UInt8(truncatingIfNeeded: bits >> 16), dst: register(24), src: register(29),
                                         offset: isJump || bits & 4 == 0 ? jump : [0, 1, 8, 16, 32, -8][Int((bits >> 40) % 6)],
                                         imm: imm)
                if raw.opcode == 0x06 || (raw.opcode == 0x85 && raw.src == 1) { raw.imm = Int32(jump) }  // gotol, local call
                let candidate = [raw, RawInstruction(opcode: 0, imm: Int32(truncatingIfNeeded: bits))]
                guard let instruction = try? Instruction(decoding: candidate, at: 0),
                      slots.count + instruction.slotCount < count else { continue }
                slots += candidate.prefix(instruction.slotCount)
            }
            slots.append(RawInstruction(opcode: 0x95))
            guard let program = try? Program(slots: slots),
                  let interpreter = try? Interpreter(program: program, helpers: [ConformanceRunner.unwind],
                                                     options: .init(instructionBudget: 5_000)) else { continue }
            var memory = (0..<64).map { _ in UInt8(truncatingIfNeeded: random.next()) }
            do { _ = try interpreter.run(memory: &memory) } catch { failed += 1 }
            ran += 1
        }
        #expect(ran > 5_000)
        #expect(failed > 100 && failed < ran)
    }

    /// The same for programs from the instruction-level generator, which reaches every kind.
    @Test func generatedProgramsNeverCrashTheHost() throws {
        var random = SeededGenerator(seed: 0x5eed_0003)
        var outcomes = (returned: 0, failed: 0)
        for _ in 0..<5_000 {
            let program = try RandomProgram.make(count: Int.random(in: 1...40, using: &random), using: &random)
            guard let interpreter = try? Interpreter(program: program, helpers: [ConformanceRunner.unwind],
                                                     options: .init(instructionBudget: 5_000)) else { continue }
            var memory = (0..<64).map { _ in UInt8.random(in: 0...255, using: &random) }
            do {
                _ = try interpreter.run(memory: &memory)
                outcomes.returned += 1
            } catch {
                outcomes.failed += 1
            }
        }
        #expect(outcomes.returned > 100 && outcomes.failed > 100)
    }
}
