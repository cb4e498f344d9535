#if os(Linux)
import BPFInstructions
import BPFObject

/// Reading the kernel verifier's log: where it stopped, and what was there.
public enum VerifierLog {
    /// The index of the last instruction the verifier printed (`N: (op) ...` lines): the one it
    /// was checking when it gave up. Nil when the log has no such line (a failure before the
    /// walk, e.g. a bad BTF func info).
    public static func failingInstructionIndex(in log: String) -> Int? {
        var last: Int?
        for line in log.split(separator: "\n") {
            if let index = instructionIndex(of: line) { last = index }
        }
        return last
    }

    /// `12: (85) call ...` → 12. State lines (`12: R0=...`) have no opcode and do not count.
    static func instructionIndex(of line: Substring) -> Int? {
        let bytes = Array(line.utf8)
        var position = 0
        var value = 0
        while position < bytes.count, bytes[position] >= 0x30, bytes[position] <= 0x39, position < 9 {
            value = value * 10 + Int(bytes[position] - 0x30)
            position += 1
        }
        guard position > 0, position + 6 <= bytes.count, bytes[position] == 0x3a, bytes[position + 1] == 0x20,
              bytes[position + 2] == 0x28, isHex(bytes[position + 3]), isHex(bytes[position + 4]),
              bytes[position + 5] == 0x29 else { return nil }
        return value
    }

    private static func isHex(_ byte: UInt8) -> Bool {
        (byte >= 0x30 && byte <= 0x39) || (byte >= 0x61 && byte <= 0x66)
    }

    /// The source line the verifier printed last before `index` (`; text @ file.c:12`), as
    /// it does when the program was loaded with line info.
    static func sourceComment(before index: Int, in log: String) -> String? {
        var comment: String?
        for line in log.split(separator: "\n") {
            if line.hasPrefix("; ") { comment = String(line.dropFirst(2)) }
            if instructionIndex(of: line) == index, let comment { return comment }
        }
        return nil
    }

    /// The instruction at slot `index`, disassembled, with its source line from `lineInfo`
    /// (the last record at or before it).
    public static func describe(instruction index: Int, in slots: [RawInstruction],
                                lineInfo: [BTFExt.LineInfo], log: String? = nil) -> BPFError.FailingInstruction {
        var failing = BPFError.FailingInstruction(index: index)
        if index >= 0, index < slots.count, let instruction = try? Instruction(decoding: slots, at: index) {
            failing.disassembly = Disassembler.text(of: instruction, syntax: .kernel)
        }
        if let record = lineInfo.filter({ $0.instructionIndex <= index }).max(by: { $0.instructionIndex < $1.instructionIndex }) {
            let text = record.line.drop { $0 == " " || $0 == "\t" }
            failing.sourceLine = "\(record.fileName):\(record.lineNumber): \(text)"
        } else if let log, let comment = sourceComment(before: index, in: log) {
            failing.sourceLine = comment
        }
        return failing
    }
}
#endif
