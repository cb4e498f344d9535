import BPFInstructions
import BPFVM
import ClassicBPF
import Testing

/// The eBPF translation returns what the classic interpreter returns, packet for packet,
/// for tcpdump's filters and random programs, under libpcap's rules and Linux's.
@Suite struct TranslationTests {
    /// Compares the classic interpreter with BPFVM running the translation; returns the
    /// number of runs compared and records the first few mismatches.
    @discardableResult
    static func compare(_ program: ClassicProgram, _ semantics: ClassicSemantics, packets: [[UInt8]],
                        generator: inout SeededGenerator, name: String,
                        target: ClassicTranslationTarget = .virtualMachine) -> Int {
        let translation: Program
        let readsLength = program.instructions.contains { $0 == .loadA(.length) || $0 == .loadX(.length) }
        do {
            translation = try ClassicTranslator.translate(program, to: target, semantics: semantics)
            if target == .packet, readsLength { Issue.record("\(name): translated for .packet though it reads #len") }
        } catch {
            if target == .packet, readsLength, case .needsContext = error.reason { return 0 }
            Issue.record("\(name): \(error)")
            return 0
        }
        let classic = ClassicInterpreter(program: program)
        let vm: Interpreter
        do {
            vm = try Interpreter(program: translation)
        } catch {
            Issue.record("\(name): BPFVM refuses the translation: \(error)")
            return 0
        }
        var mismatches = 0
        for packet in packets {
            let wireLength: UInt32 = target != .packet && Int.random(in: 0..<4, using: &generator) == 0
                ? UInt32(packet.count) + UInt32.random(in: 0...2000, using: &generator) : UInt32(packet.count)
            let ancillary = semantics == .linux ? ClassicTestSupport.randomAncillary(using: &generator, packetLength: packet.count) : nil
            let expected = classic.run(packet: packet, wireLength: wireLength, ancillary: ancillary)
            var memory = target == .packet ? packet : ClassicContextBlock.memory(packet: packet, wireLength: wireLength, ancillary: ancillary)
            let actual: String
            do {
                let value = try vm.run(memory: &memory)
                if value == UInt64(expected) { continue }
                actual = "0x" + String(value, radix: 16)
            } catch {
                actual = "\(error)"
            }
            mismatches += 1
            Issue.record("""
                \(name) (\(semantics)): classic 0x\(String(expected, radix: 16)), eBPF \(actual)
                packet (\(packet.count) bytes, wire \(wireLength)): \(packet.map { String($0, radix: 16) }.joined(separator: " "))
                ancillary: \(String(describing: ancillary))
                \(ClassicTextFormat.listing.format(program))
                """)
            if mismatches >= 3 { break }
        }
        return packets.count
    }

    @Test func tcpdumpFiltersOnCapturesAndRandomPackets() {
        let programs = ClassicTestSupport.validFilterPrograms
        if programs.isEmpty { _ = ClassicTestSupport.tcpdump(); return }
        var generator = SeededGenerator(seed: 21)
        let packets = ClassicTestSupport.capturedPackets(limit: 2500) + ClassicTestSupport.randomPackets(count: 400, using: &generator)
        var runs = 0
        for (filter, program) in programs {
            runs += Self.compare(program, .libpcap, packets: packets, generator: &generator, name: "\(filter)")
            runs += Self.compare(program, .libpcap, packets: packets, generator: &generator, name: "\(filter)", target: .packet)
            runs += Self.compare(program, .linux, packets: Array(packets.prefix(300)), generator: &generator, name: "\(filter)")
        }
        print("translation: \(programs.count) tcpdump filters, \(runs) runs compared")
    }

    @Test(arguments: [ClassicSemantics.libpcap, .linux])
    func randomPrograms(semantics: ClassicSemantics) {
        var generator = SeededGenerator(seed: semantics == .libpcap ? 31 : 32)
        let packets = ClassicTestSupport.randomPackets(count: 150, using: &generator)
        var programs = 0
        while programs < 500 {
            guard let program = RandomClassicPrograms.program(using: &generator, linux: semantics == .linux) else {
                Issue.record("the random program generator made an invalid program")
                continue
            }
            Self.compare(program, semantics, packets: packets, generator: &generator, name: "random program \(programs)")
            if semantics == .libpcap {
                Self.compare(program, semantics, packets: packets, generator: &generator, name: "random program \(programs)", target: .packet)
            }
            programs += 1
        }
    }

    @Test func socketFilterFormHasNoUnreachableCode() throws {
        var generator = SeededGenerator(seed: 41)
        var programs = ClassicTestSupport.validFilterPrograms.map(\.program)
        for _ in 0..<300 {
            if let program = RandomClassicPrograms.program(using: &generator, linux: false) { programs.append(program) }
        }
        for program in programs {
            for semantics in [ClassicSemantics.libpcap, .linux] {
                guard let translation = try? ClassicTranslator.translate(program, to: .socketFilter, semantics: semantics) else { continue }
                let unreachable = Self.unreachableInstructions(translation)
                #expect(unreachable.isEmpty, "unreachable \(unreachable) in\n\(ClassicTextFormat.listing.format(program))")
            }
        }
    }

    /// Slot indexes no path from the first instruction reaches (the kernel's check_cfg refuses them).
    static func unreachableInstructions(_ program: Program) -> [Int] {
        var reached = Set<Int>()
        var work = [0]
        let byIndex = Dictionary(uniqueKeysWithValues: program.instructions.map { ($0.index, $0.instruction) })
        while let index = work.popLast() {
            guard reached.insert(index).inserted, let instruction = byIndex[index] else { continue }
            let next = index + instruction.slotCount
            switch instruction {
            case .exit: break
            case .jump(let offset): work.append(next + Int(offset))
            case .jumpLong(let offset): work.append(next + Int(offset))
            case .branch(_, _, _, _, let offset): work += [next, next + Int(offset)]
            default: work.append(next)
            }
        }
        return program.instructions.map(\.index).filter { !reached.contains($0) }
    }

    @Test func socketFiltersCannotReadEveryAncillaryField() throws {
        for field in AncillaryField.allCases {
            let program = try ClassicProgram([.loadA(.length), .loadAncillary(field), .ret(.a)])
            _ = try ClassicTranslator.translate(program, to: .virtualMachine, semantics: .linux)
            _ = try ClassicTranslator.translate(program, to: .socketFilter, semantics: .libpcap)
            let unavailable: Set<AncillaryField> = [.hardwareType, .payloadOffset, .netlinkAttribute, .nestedNetlinkAttribute]
            if unavailable.contains(field) {
                let error = #expect(throws: ClassicTranslationError.self) {
                    try ClassicTranslator.translate(program, to: .socketFilter, semantics: .linux)
                }
                #expect(error?.index == 1)
                #expect(error?.reason == .ancillaryFieldUnavailable(field))
            } else {
                _ = try ClassicTranslator.translate(program, to: .socketFilter, semantics: .linux)
            }
        }
    }

    @Test func longJumpsAndLongPrograms() throws {
        // A ja over 4000 loads needs gotol; each load expands to one eBPF instruction and more.
        var instructions: [ClassicInstruction] = [.loadA(.packet(.byte, offset: 0)), .branch(.eq, .constant(1), jumpTrue: 0, jumpFalse: 1),
                                                  .jump(offset: 4000)]
        instructions += (0..<4000).map { _ in .loadA(.packetIndexed(.word, offset: 0x10)) }
        instructions += [.ret(.constant(7)), .ret(.a)]
        let program = try ClassicProgram(instructions)
        var generator = SeededGenerator(seed: 51)
        Self.compare(program, .libpcap, packets: [[1, 2, 3], [2, 3, 4], [1] + [UInt8](repeating: 9, count: 40)], generator: &generator, name: "long")
        Self.compare(program, .linux, packets: [[1, 2, 3], [2, 3, 4]], generator: &generator, name: "long")
        let translation = try ClassicTranslator.translate(program, to: .socketFilter)
        #expect(translation.instructions.contains { if case .jumpLong = $0.instruction { true } else { false } })
    }
}
