/// A cursor over program text that knows its line and column, for the parsers of the
/// three tcpdump forms. Spaces and tabs separate tokens; newlines only where a form says.
struct TextScanner {
    private let scalars: [Unicode.Scalar]
    private(set) var position = 0
    private(set) var line: Int
    private var lineStart = 0

    init(_ text: Substring, line: Int = 1) {
        scalars = Array(text.unicodeScalars)
        self.line = line
    }

    var column: Int { position - lineStart + 1 }
    var isAtEnd: Bool { position >= scalars.count }
    var current: Unicode.Scalar? { position < scalars.count ? scalars[position] : nil }

    func peek(_ ahead: Int) -> Unicode.Scalar? {
        position + ahead < scalars.count ? scalars[position + ahead] : nil
    }

    mutating func advance() {
        guard position < scalars.count else { return }
        if scalars[position] == "\n" {
            line += 1
            lineStart = position + 1
        }
        position += 1
    }

    mutating func skipSpaces() {
        while let scalar = current, scalar == " " || scalar == "\t" || scalar == "\r" { advance() }
    }

    /// Skips spaces, newlines and, if given, separator characters.
    mutating func skipBlank(separators: String = "") {
        while let scalar = current,
              scalar == " " || scalar == "\t" || scalar == "\r" || scalar == "\n"
                || separators.unicodeScalars.contains(scalar) {
            advance()
        }
    }

    /// Takes `literal` if the text continues with it.
    mutating func take(_ literal: String) -> Bool {
        var ahead = 0
        for scalar in literal.unicodeScalars {
            guard peek(ahead) == scalar else { return false }
            ahead += 1
        }
        for _ in 0..<ahead { advance() }
        return true
    }

    /// A name: letters, digits and underscores, starting with a letter or underscore.
    mutating func word() -> String? {
        guard let first = current, first.isASCII, first.properties.isAlphabetic || first == "_" else { return nil }
        var text = ""
        while let scalar = current, scalar.isASCII, scalar.properties.isAlphabetic || ("0"..."9").contains(scalar) || scalar == "_" {
            text.unicodeScalars.append(scalar)
            advance()
        }
        return text
    }

    /// What the error message calls the text at the cursor.
    var found: String {
        guard let scalar = current else { return "the end of the text" }
        if scalar == "\n" { return "the end of the line" }
        var text = ""
        var ahead = 0
        while let next = peek(ahead), next != " ", next != "\t", next != "\n", next != "\r", text.unicodeScalars.count < 16 {
            text.unicodeScalars.append(next)
            ahead += 1
        }
        return "'\(text)'"
    }

    func error(_ message: String) -> ClassicSyntaxError {
        ClassicSyntaxError(line: line, column: column, message: message)
    }

    /// An integer in decimal or, after `0x`, hexadecimal, with an optional minus sign;
    /// `range` bounds it (as written, before any wrap to 32 bits).
    mutating func number(_ what: String, in range: ClosedRange<Int64>) throws(ClassicSyntaxError) -> Int64 {
        let start = (line: line, column: column)
        let negative = take("-")
        var radix: Int64 = 10
        if current == "0", peek(1) == "x" || peek(1) == "X" {
            advance()
            advance()
            radix = 16
        }
        var value: Int64 = 0
        var digits = 0
        while let scalar = current, let digit = Self.digit(scalar, radix: radix) {
            value = value * radix + digit
            digits += 1
            advance()
            if value > 1 << 40 {
                throw ClassicSyntaxError(line: start.line, column: start.column, message: "\(what) is too large")
            }
        }
        guard digits > 0 else { throw error("expected \(what), found \(found)") }
        if let scalar = current, scalar.properties.isAlphabetic || ("0"..."9").contains(scalar) {
            throw error("unexpected '\(scalar)' in \(what)")
        }
        let signed = negative ? -value : value
        guard range.contains(signed) else {
            throw ClassicSyntaxError(line: start.line, column: start.column,
                                     message: "\(what) \(signed) is outside \(range.lowerBound)...\(range.upperBound)")
        }
        return signed
    }

    private static func digit(_ scalar: Unicode.Scalar, radix: Int64) -> Int64? {
        let value: Int64
        switch scalar {
        case "0"..."9": value = Int64(scalar.value - 48)
        case "a"..."f": value = Int64(scalar.value - 87)
        case "A"..."F": value = Int64(scalar.value - 55)
        default: return nil
        }
        return value < radix ? value : nil
    }
}

extension Int64 {
    /// A 32-bit field written signed (`%d`) or unsigned.
    static let field32: ClosedRange<Int64> = -0x8000_0000...0xffff_ffff
}
