import BPFInstructions
import Testing

/// Arbitrary text must only ever give a `Program` or an `AssemblyError` that points inside
/// the text; and whatever assembles must survive disassembly in both syntaxes.
struct AssemblerFuzzTests {
    static let fragments = [
        "r0", "w1", "r10", "r11", "%r1", "%r99", "=", "+=", "s>>=", "-", "+", "*", "(", ")", "[", "]", ",", ":", "<", ">",
        "u64", "s8", "goto", "gotol", "if", "call", "callx", "exit", "lock", "fetch", "add32", "mov", "ldxdw", "lddw",
        "ja", "jne", "0x", "0x7fffffff", "-2147483648", "4294967296", "18446744073709551616", "99999999999999999999999",
        "ll", "skb", "map[fd:", "func[", "kfunc[id:", "btf_var[id:1, fd:", "pc", "label", "label:", "exit:", "#", ";",
        "//", "\n", "\t", " ", "é", "\u{0}", "\u{7f}", "\u{1F600}", "\r\n", "may_goto", "atomic_fetch_add(", "xchg_64(",
        "cmpxchg32_32(", "load_acquire((u8 *)", "store_release(", "(s16)", "be16", "bswap64", ".text", "12:", "(b7)",
    ]

    @Test func randomTextNeverCrashes() {
        var random = SeededGenerator(seed: 0xf022_0001)
        for _ in 0..<4_000 {
            var text = ""
            for _ in 0..<Int.random(in: 0...24, using: &random) {
                if Bool.random(using: &random) {
                    text += Self.fragments.randomElement(using: &random) ?? ""
                } else {
                    text.unicodeScalars.append(Unicode.Scalar(UInt8.random(in: 0...127, using: &random)))
                }
            }
            Self.check(text)
        }
    }

    @Test func randomBytesNeverCrash() {
        var random = SeededGenerator(seed: 0xf022_0002)
        for _ in 0..<2_000 {
            let bytes = (0..<Int.random(in: 0...200, using: &random)).map { _ in UInt8.random(in: 0...255, using: &random) }
            Self.check(String(decoding: bytes, as: UTF8.self))
        }
    }

    @Test(arguments: AssemblySyntax.allCases)
    func mutatedProgramsNeverCrash(_ syntax: AssemblySyntax) throws {
        var random = SeededGenerator(seed: 0xf022_0003)
        for _ in 0..<600 {
            let program = try RandomProgram.make(count: Int.random(in: 1...12, using: &random), using: &random)
            var text = Array(Disassembler.disassemble(program, syntax: syntax).unicodeScalars)
            for _ in 0..<Int.random(in: 1...4, using: &random) {
                let position = Int.random(in: 0...text.count, using: &random)
                switch Int.random(in: 0..<4, using: &random) {
                case 0:
                    let end = min(text.count, position + Int.random(in: 1...6, using: &random))
                    text.removeSubrange(position..<end)
                case 1:
                    text.insert(contentsOf: (Self.fragments.randomElement(using: &random) ?? "").unicodeScalars, at: position)
                case 2:
                    text.insert(Unicode.Scalar(UInt8.random(in: 32...126, using: &random)), at: position)
                default:
                    if position < text.count { text[position] = Unicode.Scalar(UInt8.random(in: 32...126, using: &random)) }
                }
            }
            var mutated = String.UnicodeScalarView()
            mutated.append(contentsOf: text)
            Self.check(String(mutated))
        }
    }

    /// Assembles `text` with each syntax and with detection.
    static func check(_ text: String) {
        let lineCount = text.utf8.reduce(1) { $1 == UInt8(ascii: "\n") ? $0 + 1 : $0 }
        for syntax in [nil, AssemblySyntax.conformance, .kernel] {
            do {
                let program = try Assembler.assemble(text, syntax: syntax)
                for output in AssemblySyntax.allCases {
                    let disassembly = Disassembler.disassemble(program, syntax: output)
                    #expect(try Assembler.assemble(disassembly, syntax: output).slots == program.slots, "\(text.debugDescription)")
                }
            } catch {
                #expect(error.line >= 1 && error.line <= lineCount, "\(text.debugDescription): \(error)")
                #expect(error.column >= 1, "\(text.debugDescription): \(error)")
                #expect(!error.message.isEmpty)
            }
        }
    }
}
