@testable import ClassicBPF
import Testing

/// The interpreter's fused steps (`Step`) against libpcap's `bpf_filter`, and under Linux
/// rules against the eBPF translation in BPFVM. Each program starts with one fused shape,
/// of every kind, load size and condition, so every run goes through it; its jumps end in
/// returns that tell which way it went, sometimes through a second condition folded into
/// the step. Packets are short as often as not, so loads fall past the end too. The test
/// counts the outcomes per fused operation and requires each to have been seen.
@Suite struct FusedStepTests {
    /// What a run of a fused step did, told by the value the program returned.
    enum Outcome: CaseIterable {
        case dropped, jumpTaken, jumpNotTaken, secondTaken, ranThrough
    }

    @Test func everyFusedShapeAgreesWithLibpcap() {
        guard let libpcap = Libpcap.load() else { return }
        var generator = SeededGenerator(seed: 64)
        var outcomes: [Step.Operation: Set<Outcome>] = [:]
        // The outcomes of a fused step by whether it is the program's first, which the run
        // enters without a dispatch when it is an `ldh; jeq`.
        var outcomesByPlace: [Bool: [Step.Operation: Set<Outcome>]] = [:]
        var runs = 0
        for index in 0..<3000 {
            let packets = FusedShapes.packets(using: &generator)
            let shape = FusedShapes.program(using: &generator, constantsFrom: packets)
            guard let program = try? ClassicProgram(shape.instructions) else {
                Issue.record("shape \(index) does not validate:\n\(shape.instructions)")
                continue
            }
            let steps = Step.compile(program.instructions)
            guard let fused = steps.first(where: \.op.isFused), fused.op == shape.expected else {
                Issue.record("shape \(index) fused as \(String(describing: steps.first(where: \.op.isFused)?.op)), not \(shape.expected)")
                continue
            }
            let records = packets.map { CapturedPacket(bytes: $0, originalLength: UInt32($0.count) + UInt32(index % 3) * 7) }
            runs += LibpcapTests.compare(libpcap, program, records, name: "shape \(index) (\(shape.expected))")
            let interpreter = ClassicInterpreter(program: program)
            for record in records {
                let result = interpreter.run(packet: record.bytes, wireLength: record.originalLength)
                let outcome = FusedShapes.outcome(of: result, jumps: shape.jumps)
                outcomes[shape.expected, default: []].insert(outcome)
                outcomesByPlace[steps.first?.op == shape.expected, default: [:]][shape.expected, default: []].insert(outcome)
            }
            if index % 10 == 0 {
                TranslationTests.compare(program, .linux, packets: packets, generator: &generator, name: "shape \(index) (\(shape.expected))")
            }
        }
        for op in Step.Operation.allCases where op.isFused {
            let seen = outcomes[op, default: []]
            let expected = FusedShapes.possibleOutcomes(of: op)
            #expect(expected.isSubset(of: seen), "\(op): outcomes \(expected.subtracting(seen)) never seen")
        }
        for op in [Step.Operation.absWordJump, .absHalfJump, .absByteJump, .absWordEqual, .absHalfEqual, .absByteEqual] {
            for first in [true, false] {
                let seen = outcomesByPlace[first, default: [:]][op, default: []]
                let expected = FusedShapes.possibleOutcomes(of: op)
                #expect(expected.isSubset(of: seen),
                        "\(op) \(first ? "as the first step" : "after another step"): outcomes \(expected.subtracting(seen)) never seen")
            }
        }
        print("fused steps: \(runs) runs compared with libpcap; outcomes per operation: "
              + outcomes.sorted { $0.key.rawValue < $1.key.rawValue }.map { "\($0.key) \($0.value.count)" }.joined(separator: ", "))
    }

    @Test func compiledFiltersUseTheFusedSteps() {
        let programs = ClassicTestSupport.validFilterPrograms
        if programs.isEmpty { _ = ClassicTestSupport.tcpdump(); return }
        var used: [Step.Operation: Int] = [:]
        var seconds = 0
        for (_, program) in programs {
            for step in Step.compile(program.instructions) where step.op.isFused || step.op == .jumpK {
                used[step.op, default: 0] += 1
                if step.second.mask != 0 { seconds += 1 }
            }
        }
        // What tcpdump emits for ports, protocols, TCP flags and `greater`.
        for op in [Step.Operation.absHalfJump, .absByteJump, .absWordJump, .absHalfEqual, .absByteEqual, .absWordEqual,
                   .mshHalfJump, .andJump, .lenJump] {
            #expect(used[op, default: 0] > 0, "no tcpdump filter used \(op)")
        }
        #expect(seconds > 0, "no tcpdump filter has a second condition folded into a step")
        print("fused steps in \(programs.count) tcpdump filters: "
              + used.sorted { $0.key.rawValue < $1.key.rawValue }.map { "\($0.key) \($0.value)" }.joined(separator: ", ")
              + "; second conditions \(seconds)")
    }

    @Test func comparisonsMatchTheirConditions() {
        var generator = SeededGenerator(seed: 65)
        let edges: [UInt32] = [0, 1, 2, 0x7fff_ffff, 0x8000_0000, .max - 1, .max]
        for _ in 0..<20000 {
            let k = Bool.random(using: &generator) ? edges.randomElement(using: &generator) ?? 0 : UInt32.random(in: 0...UInt32.max, using: &generator)
            let near = k &+ UInt32.random(in: 0...2, using: &generator) &- 1
            for a in [near, edges.randomElement(using: &generator) ?? 0, UInt32.random(in: 0...UInt32.max, using: &generator)] {
                #expect(Comparison(.eq, k).holds(a) == (a == k))
                #expect(Comparison(.gt, k).holds(a) == (a > k))
                #expect(Comparison(.ge, k).holds(a) == (a >= k))
                #expect(Comparison(.set, k).holds(a) == (a & k != 0))
                #expect(!Comparison.never.holds(a))
            }
        }
    }
}

/// Programs that start with a fused shape, and packets for them.
enum FusedShapes {
    struct Shape {
        var instructions: [ClassicInstruction]
        /// The fused operation the shape must become.
        var expected: Step.Operation
        /// Whether it ends in a jump (else it runs through to `ret a`).
        var jumps: Bool
    }

    /// Returned when the jump is taken, not taken, or its second condition holds.
    static let taken: UInt32 = 0x7001, notTaken: UInt32 = 0x7002, secondTaken: UInt32 = 0x7003

    static func outcome(of result: UInt32, jumps: Bool) -> FusedStepTests.Outcome {
        switch result {
        case 0: .dropped
        case taken where jumps: .jumpTaken
        case notTaken where jumps: .jumpNotTaken
        case secondTaken where jumps: .secondTaken
        default: .ranThrough
        }
    }

    static func possibleOutcomes(of op: Step.Operation) -> Set<FusedStepTests.Outcome> {
        switch op {
        case .mshWord, .mshHalf, .mshByte: [.dropped, .ranThrough]
        // No load that can fail.
        case .andJump, .lenJump: [.jumpTaken, .jumpNotTaken, .secondTaken]
        default: [.dropped, .jumpTaken, .jumpNotTaken, .secondTaken]
        }
    }

    /// A dozen packets of 0 to 70 bytes from a few byte values, so that loaded values repeat
    /// and equality holds now and then; byte 14 often looks like an IPv4 header's first.
    static func packets(using g: inout SeededGenerator) -> [[UInt8]] {
        let alphabet: [UInt8] = [0x00, 0x01, 0x06, 0x45, 0x4f, 0x80, 0xff]
        return (0..<12).map { _ in
            let length = Bool.random(using: &g) ? Int.random(in: 0...24, using: &g) : Int.random(in: 25...70, using: &g)
            var bytes = (0..<length).map { _ in alphabet.randomElement(using: &g) ?? 0 }
            if bytes.count > 14, Bool.random(using: &g) { bytes[14] = 0x40 | UInt8.random(in: 0...15, using: &g) }
            return bytes
        }
    }

    static func program(using g: inout SeededGenerator, constantsFrom packets: [[UInt8]]) -> Shape {
        func chance(_ percent: Int) -> Bool { Int.random(in: 0..<100, using: &g) < percent }
        let size = LoadSize.allCases.randomElement(using: &g) ?? .byte
        let offset = UInt32.random(in: 0...40, using: &g)
        var setup: [ClassicInstruction] = []
        var body: [ClassicInstruction]
        var expected: Step.Operation
        // What A holds after the shape's load on a packet, to pick constants that match.
        var loaded: ([UInt8]) -> UInt32?
        switch Int.random(in: 0..<5, using: &g) {
        case 0:
            // Half the time after a step of its own: a first `ldh; jeq` is entered without
            // the loop's dispatch, and both ways must agree.
            if chance(50) { setup = [.loadX(.constant(UInt32.random(in: 0...30, using: &g)))] }
            body = [.loadA(.packet(size, offset: offset))]
            expected = size.pick(.absWordJump, .absHalfJump, .absByteJump)
            loaded = { read($0, Int(offset), size) }
        case 1:
            let x = chance(80) ? UInt32.random(in: 0...30, using: &g) : .max - UInt32.random(in: 0...3, using: &g)
            setup = [.loadX(.constant(x))]
            body = [.loadA(.packetIndexed(size, offset: offset))]
            expected = size.pick(.indWordJump, .indHalfJump, .indByteJump)
            loaded = { read($0, Int(x) + Int(offset), size) }
        case 2:
            let header = UInt32.random(in: 0...20, using: &g)
            body = [.loadX(.headerLength(offset: header)), .loadA(.packetIndexed(size, offset: offset))]
            expected = size.pick(.mshWordJump, .mshHalfJump, .mshByteJump)
            loaded = { packet in
                read(packet, Int(header), .byte).flatMap { read(packet, Int(($0 & 0xf) << 2) + Int(offset), size) }
            }
        case 3:
            let initial = UInt32.random(in: 0...UInt32.max, using: &g)
            setup = [.loadA(.constant(initial))]
            body = []
            expected = .andJump
            loaded = { _ in initial }
        default:
            body = [.loadA(.length)]
            expected = .lenJump
            loaded = { UInt32($0.count) }
        }
        let sample = packets.randomElement(using: &g) ?? []
        // An `and` after the load, or the `and` of an `and` shape.
        let masks: [UInt32] = [0x0f, 0xff, 0x1fff, 0x12, UInt32.random(in: 0...UInt32.max, using: &g)]
        var mask = UInt32.max
        if expected == .andJump || chance(30) {
            mask = masks.randomElement(using: &g) ?? 0xff
            body.append(.arithmetic(.and, .constant(mask)))
        }
        let value = loaded(sample).map { $0 & mask }
        func constant() -> UInt32 {
            if let value, chance(60) { return value &+ UInt32.random(in: 0...1, using: &g) }
            return [0, 1, .max, UInt32.random(in: 0...300, using: &g), UInt32.random(in: 0...UInt32.max, using: &g)]
                .randomElement(using: &g) ?? 0
        }
        let ret: [ClassicInstruction] = [.ret(.constant(taken)), .ret(.constant(notTaken)), .ret(.constant(secondTaken))]
        // ldxb and an indexed load without a jump: the loaded value, its top bit set so
        // that only a drop returns 0, is the result.
        if body.count >= 2, case .loadX = body[0], chance(15) {
            let instructions = body + [.arithmetic(.or, .constant(0x8000_0000)), .ret(.a)]
            return Shape(instructions: instructions, expected: size.pick(.mshWord, .mshHalf, .mshByte), jumps: false)
        }
        let condition = ClassicCondition.allCases.randomElement(using: &g) ?? .eq
        let second = ClassicCondition.allCases.randomElement(using: &g) ?? .eq
        // jump: true to `ret taken`, false to a second jump on A that the step folds in.
        let tail: [ClassicInstruction] = [
            .branch(condition, .constant(constant()), jumpTrue: 1, jumpFalse: 0),
            .branch(second, .constant(constant()), jumpTrue: 2, jumpFalse: 1),
        ] + ret
        // An absolute load and a plain `jeq` compile to the step that compares with k alone.
        if condition == .eq, mask == .max, let plain = [LoadSize.word, .half, .byte].first(where: { expected == $0.pick(.absWordJump, .absHalfJump, .absByteJump) }) {
            expected = plain.pick(.absWordEqual, .absHalfEqual, .absByteEqual)
        }
        return Shape(instructions: setup + body + tail, expected: expected, jumps: true)
    }

    /// The big-endian value of `size` bytes at `offset`, nil past the end.
    static func read(_ packet: [UInt8], _ offset: Int, _ size: LoadSize) -> UInt32? {
        guard offset >= 0, offset + size.byteCount <= packet.count else { return nil }
        return packet[offset..<offset + size.byteCount].reduce(0) { $0 << 8 | UInt32($1) }
    }
}
