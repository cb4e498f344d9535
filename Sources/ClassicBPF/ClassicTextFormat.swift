/// The three forms in which tcpdump prints a compiled filter, byte for byte as libpcap's
/// `bpf_dump` and `bpf_image` (1.10) write them.
public enum ClassicTextFormat: Sendable, Hashable, CaseIterable {
    /// `tcpdump -d`: `(000) ldh      [12]`, jumps with absolute targets.
    case listing
    /// `tcpdump -dd`: `{ 0x28, 0, 0, 0x0000000c },`, a C array initializer.
    case cArray
    /// `tcpdump -ddd`: the instruction count, then `40 0 0 12` per instruction.
    case decimal

    /// Prints `instructions`, one line each, every line ending in a newline.
    public func format(_ instructions: [RawClassicInstruction]) -> String {
        var text = ""
        switch self {
        case .listing:
            for (index, instruction) in instructions.enumerated() {
                text += ClassicTextFormat.line(instruction, at: index)
                text += "\n"
            }
        case .cArray:
            for instruction in instructions {
                let k = String(instruction.k, radix: 16)
                text += "{ 0x\(String(instruction.code, radix: 16)), \(instruction.jt), \(instruction.jf), 0x"
                text += String(repeating: "0", count: max(0, 8 - k.count)) + k + " },\n"
            }
        case .decimal:
            text += "\(instructions.count)\n"
            for instruction in instructions {
                text += "\(instruction.code) \(instruction.jt) \(instruction.jf) \(instruction.k)\n"
            }
        }
        return text
    }

    public func format(_ program: ClassicProgram) -> String { format(program.raw) }

    /// Reads text in this form back into instructions (not yet validated: see `ClassicProgram`).
    public func parse(_ text: String) throws(ClassicSyntaxError) -> [RawClassicInstruction] {
        switch self {
        case .listing: try ListingParser.parse(text)
        case .cArray: try NumericFormParser.parseCArray(text)
        case .decimal: try NumericFormParser.parseDecimal(text)
        }
    }

    /// One line of `tcpdump -d` without its newline: libpcap's `bpf_image(p, n)`.
    public static func line(_ instruction: RawClassicInstruction, at index: Int) -> String {
        let (mnemonic, operand) = ClassicTextFormat.image(instruction, at: index)
        let number = String(index)
        var text = "(" + String(repeating: "0", count: max(0, 3 - number.count)) + number + ") "
        text += padded(mnemonic, 8) + " "
        let code = instruction.code
        if ClassicOpcode.instructionClass(code) == ClassicOpcode.classJMP, ClassicOpcode.operation(code) != ClassicOpcode.jumpJA {
            text += padded(operand, 16) + " jt \(index + 1 + Int(instruction.jt))\tjf \(index + 1 + Int(instruction.jf))"
        } else {
            text += operand
        }
        return text
    }

    /// The mnemonic and operand `bpf_image` prints: `%d` where it prints k signed, `0x%x`
    /// where in hex, `unimp` with the opcode for what it does not know (`ldx #len` among them).
    static func image(_ instruction: RawClassicInstruction, at index: Int) -> (String, String) {
        let k = instruction.k
        let signed = String(Int32(bitPattern: k))
        let hex = "#0x" + String(k, radix: 16)
        let unknown = ("unimp", "0x" + String(instruction.code, radix: 16))
        // libpcap prints no name for `ldx #len`, though it runs it.
        if instruction.code == ClassicOpcode.classLDX | ClassicOpcode.modeLEN { return unknown }
        guard let decoded = ClassicInstruction(instruction) else { return unknown }
        func absolute() -> String {
            if let field = AncillaryField(offset: k) { return "[\(field.name)]" }
            return "[\(signed)]"
        }
        func sized(_ size: LoadSize) -> String {
            switch size {
            case .word: "ld"
            case .half: "ldh"
            case .byte: "ldb"
            }
        }
        switch decoded {
        case .ret(.constant): return ("ret", "#" + signed)
        case .ret(.a): return ("ret", "")
        case .loadA(.packet(let size, _)): return (sized(size), absolute())
        case .loadA(.packetIndexed(let size, _)): return (sized(size), "[x + \(signed)]")
        case .loadA(.length): return ("ld", "#pktlen")
        case .loadA(.constant): return ("ld", hex)
        case .loadA(.scratch): return ("ld", "M[\(signed)]")
        case .loadX(.constant): return ("ldx", hex)
        case .loadX(.length): return unknown
        case .loadX(.scratch): return ("ldx", "M[\(signed)]")
        case .loadX(.headerLength): return ("ldxb", "4*([\(signed)]&0xf)")
        case .storeA: return ("st", "M[\(signed)]")
        case .storeX: return ("stx", "M[\(signed)]")
        case .jump: return ("ja", String(Int32(bitPattern: UInt32(truncatingIfNeeded: index) &+ 1 &+ k)))
        case .branch(let condition, .constant, _, _): return (condition.mnemonic, hex)
        case .branch(let condition, .x, _, _): return (condition.mnemonic, "x")
        case .arithmetic(let operation, .x): return (operation.mnemonic, "x")
        case .arithmetic(let operation, .constant):
            switch operation {
            case .and, .or, .xor: return (operation.mnemonic, hex)
            default: return (operation.mnemonic, "#" + signed)
            }
        case .negate: return ("neg", "")
        case .tax: return ("tax", "")
        case .txa: return ("txa", "")
        }
    }

    private static func padded(_ text: String, _ width: Int) -> String {
        text.count >= width ? text : text + String(repeating: " ", count: width - text.count)
    }
}

extension ClassicInstruction: CustomStringConvertible {
    /// The instruction as `tcpdump -d` prints it, without the number (jump targets relative: `jt +2`).
    public var description: String {
        let (mnemonic, operand) = ClassicTextFormat.image(raw, at: -1)
        switch self {
        case .jump(let k): return "ja +\(k)"
        case .loadX(.length): return "ldx #pktlen"
        case .branch(_, _, let jt, let jf): return "\(mnemonic) \(operand) jt +\(jt) jf +\(jf)"
        default: return operand.isEmpty ? mnemonic : "\(mnemonic) \(operand)"
        }
    }
}
