/// Reads the numeric forms back: `tcpdump -dd` (`{ code, jt, jf, k },` per instruction)
/// and `tcpdump -ddd` (a count, then four numbers per instruction). The decimal form also
/// takes commas between the numbers, as iptables' `--bytecode` writes it.
enum NumericFormParser {
    static func parseCArray(_ text: String) throws(ClassicSyntaxError) -> [RawClassicInstruction] {
        var s = TextScanner(text[...])
        var instructions: [RawClassicInstruction] = []
        s.skipBlank()
        while !s.isAtEnd {
            guard s.take("{") else { throw s.error("expected '{' to start an instruction, found \(s.found)") }
            let fields = try four(&s, separator: ",")
            s.skipBlank()
            guard s.take("}") else { throw s.error("expected '}' after the four fields, found \(s.found)") }
            instructions.append(fields)
            s.skipBlank()
            _ = s.take(",")
            s.skipBlank()
        }
        return instructions
    }

    static func parseDecimal(_ text: String) throws(ClassicSyntaxError) -> [RawClassicInstruction] {
        var s = TextScanner(text[...])
        s.skipBlank()
        let countLine = s.line, countColumn = s.column
        let count = try s.number("instruction count", in: 0...Int64(1 << 24))
        var instructions: [RawClassicInstruction] = []
        s.skipBlank(separators: ",")
        while !s.isAtEnd {
            instructions.append(try four(&s, separator: nil))
            s.skipBlank(separators: ",")
        }
        guard instructions.count == Int(count) else {
            throw ClassicSyntaxError(line: countLine, column: countColumn,
                                     message: "the count says \(count) instructions, but \(instructions.count) follow")
        }
        return instructions
    }

    /// code, jt, jf and k, separated by `separator` (or just blanks).
    private static func four(_ s: inout TextScanner, separator: String?) throws(ClassicSyntaxError) -> RawClassicInstruction {
        var values: [Int64] = []
        let fields: [(String, ClosedRange<Int64>)] = [("opcode", 0...0xffff), ("jt", 0...255), ("jf", 0...255), ("k", Int64.field32)]
        for (position, field) in fields.enumerated() {
            s.skipBlank()
            if position > 0, let separator {
                guard s.take(separator) else { throw s.error("expected '\(separator)' before \(field.0), found \(s.found)") }
                s.skipBlank()
            }
            values.append(try s.number(field.0, in: field.1))
        }
        return RawClassicInstruction(code: UInt16(values[0]), jt: UInt8(values[1]), jf: UInt8(values[2]),
                                     k: UInt32(truncatingIfNeeded: values[3]))
    }
}
