/// Hex byte strings as test files, command lines and the conformance plugin protocol write
/// them: pairs of hex digits, optionally separated by white space, an optional `0x` each.
public enum Hex {
    public struct ParseError: Error, Sendable, Hashable, CustomStringConvertible {
        /// Character offset of the problem in the input.
        public var offset: Int
        public var message: String
        public var description: String { "at character \(offset + 1): \(message)" }
    }

    public static func bytes(_ text: String) throws(ParseError) -> [UInt8] {
        var bytes: [UInt8] = []
        var high: UInt8?
        var highOffset = 0
        let scalars = Array(text.unicodeScalars)
        var i = 0
        while i < scalars.count {
            let c = scalars[i]
            if c == " " || c == "\t" || c == "\n" || c == "\r" || c == "," {
                guard high == nil else { throw ParseError(offset: highOffset, message: "odd number of hex digits") }
                i += 1
                continue
            }
            if high == nil, c == "0", i + 1 < scalars.count, scalars[i + 1] == "x" || scalars[i + 1] == "X" {
                i += 2
                continue
            }
            guard let digit = digitValue(c) else {
                throw ParseError(offset: i, message: "'\(c)' is not a hex digit")
            }
            if let h = high {
                bytes.append(h << 4 | digit)
                high = nil
            } else {
                high = digit
                highOffset = i
            }
            i += 1
        }
        guard high == nil else { throw ParseError(offset: highOffset, message: "odd number of hex digits") }
        return bytes
    }

    /// Lower-case hex, two digits a byte, no separators.
    public static func string(_ bytes: some Sequence<UInt8>) -> String {
        let digits = Array("0123456789abcdef".unicodeScalars)
        var text = String.UnicodeScalarView()
        for byte in bytes {
            text.append(digits[Int(byte >> 4)])
            text.append(digits[Int(byte & 0xf)])
        }
        return String(text)
    }

    static func digitValue(_ c: Unicode.Scalar) -> UInt8? {
        switch c.value {
        case 0x30...0x39: UInt8(c.value - 0x30)
        case 0x41...0x46: UInt8(c.value - 0x41 + 10)
        case 0x61...0x66: UInt8(c.value - 0x61 + 10)
        default: nil
        }
    }
}
