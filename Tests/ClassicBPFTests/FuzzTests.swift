import BPFInstructions
import BPFVM
import ClassicBPF
import Testing

/// Arbitrary input reaches every entry point and gets a value or an error, never a crash:
/// bytes to the decoder and validator, mutated programs to the interpreter and the
/// translator, and text to the three parsers.
@Suite struct FuzzTests {
    static let seedListing = """
    (000) ldh      [12]
    (001) jeq      #0x800           jt 2	jf 8
    (002) ldb      [23]
    (003) ldxb     4*([14]&0xf)
    (004) ldh      [x + 16]
    (005) st       M[1]
    (006) ld       [proto]
    (007) jset     x                jt 8	jf 9
    (008) ret      #262144
    (009) ret      
    """

    @Test func randomBytesAndMutatedPrograms() throws {
        var generator = SeededGenerator(seed: 71)
        let packets = ClassicTestSupport.randomPackets(count: 12, using: &generator)
        var valid = 0
        for round in 0..<20_000 {
            var bytes: [UInt8]
            if round % 4 == 0 {
                bytes = (0..<Int.random(in: 0...64, using: &generator)).map { _ in UInt8.random(in: 0...255, using: &generator) }
            } else {
                // A valid program with a few bytes changed reaches deeper than noise does.
                let program = RandomClassicPrograms.instructions(using: &generator, linux: true, maxLength: 12)
                bytes = (try? ClassicProgram(program))?.bytes() ?? []
                for _ in 0..<Int.random(in: 1...3, using: &generator) where !bytes.isEmpty {
                    bytes[Int.random(in: 0..<bytes.count, using: &generator)] = UInt8.random(in: 0...255, using: &generator)
                }
            }
            guard let program = try? ClassicProgram(bytes: bytes) else { continue }
            valid += 1
            exercise(program, packets: packets, generator: &generator)
        }
        #expect(valid > 5000)
    }

    @Test func randomInstructionsFromTheKnownOpcodes() {
        var generator = SeededGenerator(seed: 72)
        let codes = EncodingTests.kernelOpcodes.sorted()
        let packets = ClassicTestSupport.randomPackets(count: 12, using: &generator)
        var valid = 0
        for _ in 0..<20_000 {
            let count = Int.random(in: 1...10, using: &generator)
            let raw = (0..<count).map { index in
                RawClassicInstruction(
                    code: index == count - 1 && Bool.random(using: &generator) ? 0x16 : codes[Int.random(in: 0..<codes.count, using: &generator)],
                    jt: UInt8.random(in: 0...4, using: &generator), jf: UInt8.random(in: 0...4, using: &generator),
                    k: Bool.random(using: &generator) ? UInt32.random(in: 0...20, using: &generator) : UInt32.random(in: 0...UInt32.max, using: &generator))
            }
            guard let program = try? ClassicProgram(raw) else { continue }
            valid += 1
            exercise(program, packets: packets, generator: &generator)
        }
        #expect(valid > 1000)
    }

    /// Runs, prints, reparses and translates a valid program; the VM must agree.
    func exercise(_ program: ClassicProgram, packets: [[UInt8]], generator: inout SeededGenerator) {
        let interpreter = ClassicInterpreter(program: program)
        for packet in packets.prefix(3) {
            _ = interpreter.run(packet: packet)
            _ = interpreter.run(packet: packet, ancillary: ClassicTestSupport.randomAncillary(using: &generator, packetLength: packet.count))
        }
        #expect((try? ClassicTextFormat.cArray.parse(ClassicTextFormat.cArray.format(program))) == program.raw)
        for target in [ClassicTranslationTarget.virtualMachine, .socketFilter, .packet] {
            for semantics in [ClassicSemantics.libpcap, .linux] {
                _ = try? ClassicTranslator.translate(program, to: target, semantics: semantics)
            }
        }
        TranslationTests.compare(program, .linux, packets: Array(packets.prefix(2)), generator: &generator, name: "fuzzed")
    }

    @Test func fuzzEntryPoint() {
        var generator = SeededGenerator(seed: 74)
        var programs = 0
        for round in 0..<3000 {
            var bytes = (0..<Int.random(in: 0...96, using: &generator)).map { _ in UInt8.random(in: 0...255, using: &generator) }
            if round % 2 == 0, let program = RandomClassicPrograms.program(using: &generator, linux: true, maxLength: 10) {
                let format = ClassicTextFormat.allCases[round / 2 % 3]
                bytes = round % 4 == 0 ? program.bytes() : Array(format.format(program).utf8)
                if round % 8 == 0, !bytes.isEmpty { bytes[Int.random(in: 0..<bytes.count, using: &generator)] ^= 0x20 }
            }
            programs += ClassicProgram.fuzz(bytes).programs
        }
        #expect(programs > 1000)
    }

    @Test func randomText() {
        var generator = SeededGenerator(seed: 73)
        let alphabet = Array("()[]#xX+-*&:;,{}0123456789abcdefxMljtfdrnp \t\n\r".unicodeScalars) + ["é", "\u{0}", "\u{1F600}"]
        let seeds = [Self.seedListing, ClassicTextFormat.cArray.format((try? ClassicTextFormat.listing.parse(Self.seedListing)) ?? []),
                     ClassicTextFormat.decimal.format((try? ClassicTextFormat.listing.parse(Self.seedListing)) ?? [])]
        var parsed = 0
        for round in 0..<30_000 {
            var scalars: [Unicode.Scalar]
            if round % 3 == 0 {
                scalars = (0..<Int.random(in: 0...80, using: &generator)).map { _ in alphabet[Int.random(in: 0..<alphabet.count, using: &generator)] }
            } else {
                scalars = Array(seeds[round % seeds.count].unicodeScalars)
                for _ in 0..<Int.random(in: 1...4, using: &generator) {
                    let at = Int.random(in: 0...scalars.count, using: &generator)
                    let scalar = alphabet[Int.random(in: 0..<alphabet.count, using: &generator)]
                    switch Int.random(in: 0..<3, using: &generator) {
                    case 0: scalars.insert(scalar, at: at)
                    case 1 where at < scalars.count: scalars.remove(at: at)
                    default: if at < scalars.count { scalars[at] = scalar }
                    }
                }
            }
            var text = ""
            text.unicodeScalars.append(contentsOf: scalars)
            for format in ClassicTextFormat.allCases {
                do {
                    let instructions = try format.parse(text)
                    parsed += 1
                    _ = try? ClassicProgram(instructions)
                } catch {
                    #expect(error.line >= 1 && error.column >= 1)
                }
            }
        }
        #expect(parsed > 1000)
    }
}
