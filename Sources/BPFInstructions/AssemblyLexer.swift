/// One token of a line of assembly. Numbers are kept as text and checked where they are
/// used, because bpftool and llvm-objdump prefixes (`(b7)`, `0a 00 ...`) look like bad numbers.
struct Token: Sendable {
    enum Kind: Sendable, Equatable { case identifier, number, symbol }
    var kind: Kind
    var text: String
    /// Byte offset of the token in its line.
    var offset: Int

    func isSymbol(_ symbol: String) -> Bool { kind == .symbol && text == symbol }
    func isIdentifier(_ name: String) -> Bool { kind == .identifier && text == name }

    /// Exactly two hex digits: an opcode or raw byte printed by bpftool or llvm-objdump.
    var isHexByte: Bool {
        let bytes = text.utf8
        return kind != .symbol && bytes.count == 2 && bytes.allSatisfy(\.isASCIIHexDigit)
    }
}

/// A line of source: its bytes (without the newline) and its 1-based number.
struct SourceLine {
    let bytes: ArraySlice<UInt8>
    let number: Int

    /// An error at byte `offset` of this line; the column counts Unicode scalars.
    func error(_ message: String, atOffset offset: Int) -> AssemblyError {
        AssemblyError(line: number, column: column(atOffset: offset), message: message)
    }

    func column(atOffset offset: Int) -> Int {
        let end = min(bytes.startIndex + max(offset, 0), bytes.endIndex)
        var column = 1
        for byte in bytes[bytes.startIndex..<end] where byte & 0xc0 != 0x80 { column += 1 }
        return column
    }
}

enum AssemblyLexer {
    /// Splits a line into tokens, dropping whitespace and comments (`;` or `//` anywhere,
    /// `#` at the start or after whitespace, so that bpftool's `call name#1` keeps its `#`).
    static func tokens(of line: SourceLine) throws(AssemblyError) -> [Token] {
        let bytes = line.bytes
        let start = bytes.startIndex
        var tokens: [Token] = []
        var index = start
        while index < bytes.endIndex {
            let byte = bytes[index]
            let next: UInt8 = index + 1 < bytes.endIndex ? bytes[index + 1] : 0
            if byte.isASCIIBlank {
                index += 1
                continue
            }
            if byte == UInt8(ascii: ";") || (byte == UInt8(ascii: "/") && next == UInt8(ascii: "/"))
                || (byte == UInt8(ascii: "#") && (index == start || bytes[index - 1].isASCIIBlank)) {
                break
            }
            let tokenStart = index
            if byte.startsAssemblyIdentifier {
                while index < bytes.endIndex, bytes[index].continuesAssemblyIdentifier { index += 1 }
                // `s<`, `s>=`, `s>>=`, `s/=`, `s%=`: signed operators start with a letter.
                if index - tokenStart == 1, byte == UInt8(ascii: "s") {
                    let length = signedOperatorLength(bytes, at: index)
                    if length > 0 {
                        index += length
                        tokens.append(Token(kind: .symbol, text: text(bytes[tokenStart..<index]), offset: tokenStart - start))
                        continue
                    }
                }
                tokens.append(Token(kind: .identifier, text: text(bytes[tokenStart..<index]), offset: tokenStart - start))
            } else if byte.isASCIIDigit {
                while index < bytes.endIndex, bytes[index].continuesAssemblyIdentifier { index += 1 }
                tokens.append(Token(kind: .number, text: text(bytes[tokenStart..<index]), offset: tokenStart - start))
            } else if byte >= 0x21 && byte < 0x7f {
                index += operatorLength(bytes, at: index)
                tokens.append(Token(kind: .symbol, text: text(bytes[tokenStart..<index]), offset: tokenStart - start))
            } else {
                throw line.error("unexpected character \(describeCharacter(in: bytes, at: index))", atOffset: index - start)
            }
        }
        return tokens
    }

    /// The length of the operator at `index`: `<<=` and `>>=`, a compound `x=` (`+=`, `==`,
    /// `!=`, `<=`...), or any single character.
    private static func operatorLength(_ bytes: ArraySlice<UInt8>, at index: Int) -> Int {
        let byte = bytes[index]
        let next = index + 1 < bytes.endIndex ? bytes[index + 1] : 0
        let third = index + 2 < bytes.endIndex ? bytes[index + 2] : 0
        if (byte == UInt8(ascii: "<") || byte == UInt8(ascii: ">")) && next == byte && third == UInt8(ascii: "=") { return 3 }
        if next == UInt8(ascii: "="), compoundOperatorStarts.contains(byte) { return 2 }
        return 1
    }

    private static let compoundOperatorStarts: Set<UInt8> = Set("+-*/%|&^=!<>".utf8)

    /// The length of a signed operator's tail after its `s` (`>>=`, `>=`, `>`, `<=`, `<`, `/=`, `%=`), or 0.
    private static func signedOperatorLength(_ bytes: ArraySlice<UInt8>, at index: Int) -> Int {
        guard index < bytes.endIndex else { return 0 }
        let byte = bytes[index]
        let next = index + 1 < bytes.endIndex ? bytes[index + 1] : 0
        let third = index + 2 < bytes.endIndex ? bytes[index + 2] : 0
        switch byte {
        case UInt8(ascii: ">"):
            if next == UInt8(ascii: ">") && third == UInt8(ascii: "=") { return 3 }
            return next == UInt8(ascii: "=") ? 2 : 1
        case UInt8(ascii: "<"):
            return next == UInt8(ascii: "=") ? 2 : 1
        case UInt8(ascii: "/"), UInt8(ascii: "%"):
            return next == UInt8(ascii: "=") ? 2 : 0
        default:
            return 0
        }
    }

    private static func text(_ bytes: ArraySlice<UInt8>) -> String { String(decoding: bytes, as: UTF8.self) }

    private static func describeCharacter(in bytes: ArraySlice<UInt8>, at index: Int) -> String {
        var end = index + 1
        while end < bytes.endIndex, bytes[end] & 0xc0 == 0x80 { end += 1 }
        let character = String(decoding: bytes[index..<end], as: UTF8.self)
        guard let scalar = character.unicodeScalars.first else { return "'?'" }
        if scalar.value < 0x20 || scalar.value == 0x7f || (scalar.value >= 0x80 && scalar.value < 0xa0) {
            let hex = String(scalar.value, radix: 16, uppercase: true)
            return "U+" + String(repeating: "0", count: max(0, 4 - hex.count)) + hex
        }
        return "'\(character)'"
    }
}

extension UInt8 {
    var isASCIIBlank: Bool { self == 0x20 || self == 0x09 || self == 0x0d || self == 0x0b || self == 0x0c }
    var isASCIIDigit: Bool { self >= 0x30 && self <= 0x39 }
    var isASCIILetter: Bool { (self | 0x20) >= 0x61 && (self | 0x20) <= 0x7a }
    var isASCIIHexDigit: Bool { isASCIIDigit || ((self | 0x20) >= 0x61 && (self | 0x20) <= 0x66) }
    var startsAssemblyIdentifier: Bool { isASCIILetter || self == UInt8(ascii: "_") || self == UInt8(ascii: ".") }
    var continuesAssemblyIdentifier: Bool { startsAssemblyIdentifier || isASCIIDigit }
}

/// A number as written: sign, magnitude and base, so that each use can apply its own
/// range rule (a hex immediate is a bit pattern, a decimal one a signed value).
struct NumberLiteral {
    var isNegative: Bool
    var magnitude: UInt64
    var isHex: Bool
    /// The text as written, sign included, for messages.
    var text: String

    /// The signed value, if it fits in 64 bits.
    var signedValue: Int64? {
        if isNegative {
            return magnitude <= UInt64(Int64.max) + 1 ? Int64(truncatingIfNeeded: 0 &- magnitude) : nil
        }
        return Int64(exactly: magnitude)
    }

    /// A 32-bit immediate: in decimal a signed value; in hex any pattern up to 0xffffffff.
    var immediate32: Int32? {
        if isHex && !isNegative {
            guard let pattern = UInt32(exactly: magnitude) else { return nil }
            return Int32(bitPattern: pattern)
        }
        return signedValue.flatMap { Int32(exactly: $0) }
    }

    /// A 64-bit immediate: any value from -2^63 to 2^64-1, as its bit pattern.
    var immediate64: UInt64? {
        if isNegative { return signedValue.map { UInt64(bitPattern: $0) } }
        return magnitude
    }

    enum Parsed { case number(NumberLiteral), invalid, tooLarge }

    /// Parses the digits of `token` (decimal or `0x` hex).
    static func parse(_ token: Token, negative: Bool, signText: String) -> Parsed {
        let digits = Array(token.text.utf8)
        var isHex = false
        var body = digits[...]
        if digits.count > 2, digits[0] == UInt8(ascii: "0"), digits[1] | 0x20 == UInt8(ascii: "x") {
            isHex = true
            body = digits[2...]
        }
        var value: UInt64 = 0
        var overflow = false
        for digit in body {
            let digitValue: UInt64
            if digit.isASCIIDigit {
                digitValue = UInt64(digit - 0x30)
            } else if isHex && digit.isASCIIHexDigit {
                digitValue = UInt64((digit | 0x20) - 0x61 + 10)
            } else {
                return .invalid
            }
            let (shifted, o1) = value.multipliedReportingOverflow(by: isHex ? 16 : 10)
            let (sum, o2) = shifted.addingReportingOverflow(digitValue)
            overflow = overflow || o1 || o2
            value = sum
        }
        if overflow { return .tooLarge }
        return .number(NumberLiteral(isNegative: negative, magnitude: value, isHex: isHex, text: signText + token.text))
    }
}
