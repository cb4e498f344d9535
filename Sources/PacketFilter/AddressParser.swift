/// Numbers and addresses as libpcap's lexer reads them, without the C library.
enum AddressParser {
    /// Decimal, `0x` hex or leading-zero octal, as libpcap's `stoulen`; nil past 32 bits.
    static func number(_ text: String) -> UInt32? {
        if case .value(let value) = readNumber(text) { return value }
        return nil
    }

    /// Whether `text` is a number too large for 32 bits, which libpcap's lexer refuses.
    static func overflows(_ text: String) -> Bool { readNumber(text) == .overflow }

    enum NumberReading: Equatable {
        case value(UInt32), overflow, notANumber
    }

    static func readNumber(_ text: String) -> NumberReading {
        var text = text
        return text.withUTF8 { readNumber($0[...]) }
    }

    /// The same over the text's bytes: walking Characters, or even a Substring's UTF-8 view,
    /// cost more than the rest of a short compile.
    private static func readNumber(_ bytes: Slice<UnsafeBufferPointer<UInt8>>) -> NumberReading {
        var digits = bytes
        var radix: UInt32 = 10
        if digits.count > 1, digits.first == UInt8(ascii: "0") {
            let second = digits[digits.index(after: digits.startIndex)]
            if second == UInt8(ascii: "x") || second == UInt8(ascii: "X") {
                radix = 16
                digits = digits.dropFirst(2)
            } else {
                radix = 8
                digits = digits.dropFirst()
            }
        }
        guard !digits.isEmpty else { return .notANumber }
        var value: UInt32 = 0
        var overflow = false
        for byte in digits {
            let digit: UInt32
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = UInt32(byte - UInt8(ascii: "0"))
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = UInt32(byte - UInt8(ascii: "a")) + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = UInt32(byte - UInt8(ascii: "A")) + 10
            default: return .notANumber
            }
            guard digit < radix else { return .notANumber }
            let (m, o1) = value.multipliedReportingOverflow(by: radix)
            let (s, o2) = m.addingReportingOverflow(digit)
            overflow = overflow || o1 || o2
            value = s
        }
        return overflow ? .overflow : .value(value)
    }

    /// Whether `text` is written as a dotted IPv4 address (`10.0.0.256`), valid or not.
    static func isDottedDecimal(_ text: String) -> Bool {
        let parts = text.utf8.split(separator: UInt8(ascii: "."), omittingEmptySubsequences: false)
        return (2...4).contains(parts.count)
            && parts.allSatisfy { !$0.isEmpty && $0.allSatisfy { (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) } }
    }

    /// Whether `bytes` look like an Ethernet address with a wrong number of parts
    /// (`0:1:2:3:4`): two colons or more between groups of one or two hex digits.
    static func isBogusEthernetAddress(_ bytes: Slice<UnsafeBufferPointer<UInt8>>) -> Bool {
        let groups = bytes.split(separator: UInt8(ascii: ":"), omittingEmptySubsequences: false)
        return groups.count >= 3 && groups.allSatisfy { (1...2).contains($0.count) && $0.allSatisfy { hexDigit($0) != nil } }
    }

    /// `a`, `a.b`, `a.b.c` or `a.b.c.d`, each part 0–255: the address (left-aligned) and how
    /// many bits were given, as libpcap's `__pcap_atoin`.
    static func ipv4(_ text: String) -> (address: UInt32, bits: Int)? {
        var text = text
        return text.withUTF8 { ipv4($0) }
    }

    /// The same over the text's bytes: splitting Characters and parsing each part as a
    /// Substring cost more than the rest of a `host` primitive. A part reads as `UInt32(part)`
    /// does: an optional sign (only zero may be negative), then decimal digits.
    private static func ipv4<Bytes: Collection<UInt8>>(_ bytes: Bytes) -> (address: UInt32, bits: Int)? {
        var address: UInt32 = 0, parts = 0
        var value: UInt32 = 0, digits = 0, signed = false, negative = false
        func endPart() -> Bool {
            guard digits > 0, value <= 255, !negative || value == 0, parts < 4 else { return false }
            (address, parts) = (address << 8 | value, parts + 1)
            (value, digits, signed, negative) = (0, 0, false, false)
            return true
        }
        for byte in bytes {
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"):
                // Past 255 the part is refused: held at 256, it cannot overflow.
                value = min(value * 10 + UInt32(byte - UInt8(ascii: "0")), 256)
                digits += 1
            case UInt8(ascii: "."):
                guard endPart() else { return nil }
            case UInt8(ascii: "+"), UInt8(ascii: "-"):
                guard !signed, digits == 0 else { return nil }
                (signed, negative) = (true, byte == UInt8(ascii: "-"))
            default:
                return nil
            }
        }
        guard endPart() else { return nil }
        return (address << (8 * UInt32(4 - parts)), 8 * parts)
    }

    /// Six hex bytes separated by `:`, `-` or `.` (the last as `xxxx.xxxx.xxxx`), or twelve
    /// hex digits together.
    static func macAddress(_ text: String) -> [UInt8]? {
        var text = text
        return text.withUTF8 { macAddress($0) }
    }

    /// The same over the text's bytes, as everywhere in the lexer's path: string searching
    /// and splitting cost more than the rest of a short compile.
    private static func macAddress(_ utf8: UnsafeBufferPointer<UInt8>) -> [UInt8]? {
        let colons = utf8.contains(UInt8(ascii: ":")) || utf8.contains(UInt8(ascii: "-"))
        guard colons || utf8.contains(UInt8(ascii: ".")) else {
            guard utf8.count == 12 else { return nil }
            var bytes: [UInt8] = []
            bytes.reserveCapacity(6)
            var high: UInt32?
            for byte in utf8 {
                guard let digit = hexDigit(byte) else { return nil }
                if let h = high {
                    bytes.append(UInt8(h << 4 | digit))
                    high = nil
                } else {
                    high = digit
                }
            }
            return bytes
        }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(6)
        // Six dotted parts are bytes (`0.1b.2.3.4.5`), as between colons.
        let shortParts = colons || utf8.lazy.filter { $0 == UInt8(ascii: ".") }.count == 5
        // Parts of 1–2 hex digits between `:` or `-`, or of exactly 4 between dots.
        var value: UInt32 = 0, digits = 0, parts = 0
        func endPart() -> Bool {
            if shortParts {
                guard (1...2).contains(digits) else { return false }
                bytes.append(UInt8(value))
            } else {
                guard digits == 4 else { return false }
                bytes += [UInt8(value >> 8), UInt8(value & 0xff)]
            }
            (value, digits, parts) = (0, 0, parts + 1)
            return true
        }
        for byte in utf8 {
            let separator = colons ? byte == UInt8(ascii: ":") || byte == UInt8(ascii: "-") : byte == UInt8(ascii: ".")
            if separator {
                guard endPart() else { return nil }
            } else {
                guard let digit = hexDigit(byte) else { return nil }
                value = value << 4 | digit
                digits += 1
                if digits > 4 { return nil }
            }
        }
        guard endPart(), parts == (shortParts ? 6 : 3) else { return nil }
        return bytes
    }

    /// Whether `text` has the ASCII character `byte`: searched in its UTF-8 buffer, as a
    /// String's UTF-8 view is searched byte by byte through its index type.
    static func has(_ text: String, _ byte: UInt8) -> Bool {
        var text = text
        return text.withUTF8 { $0.contains(byte) }
    }

    static func hexDigit(_ byte: UInt8) -> UInt32? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): UInt32(byte - UInt8(ascii: "0"))
        case UInt8(ascii: "a")...UInt8(ascii: "f"): UInt32(byte - UInt8(ascii: "a")) + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): UInt32(byte - UInt8(ascii: "A")) + 10
        default: nil
        }
    }

    /// An IPv6 address in the forms of RFC 4291 (with `::` and an embedded IPv4 tail) as four words.
    static func ipv6Address(_ text: String) -> [UInt32]? {
        var text = text
        return text.withUTF8 { ipv6Address($0) }
    }

    /// The same over the text's bytes, the groups in a vector rather than arrays: the lexer
    /// asks about every word with a colon, and the parser again about each address.
    private static func ipv6Address(_ bytes: UnsafeBufferPointer<UInt8>) -> [UInt32]? {
        let colon = UInt8(ascii: ":"), dot = UInt8(ascii: ".")
        guard bytes.contains(colon), bytes.allSatisfy({ hexDigit($0) != nil || $0 == colon || $0 == dot }) else { return nil }
        // Where `::` stands for the zero groups; at most one.
        var gap: Int?
        var i = 0
        while i + 1 < bytes.count {
            if bytes[i] == colon, bytes[i + 1] == colon {
                guard gap == nil else { return nil }
                gap = i
                i += 2
            } else {
                i += 1
            }
        }
        var groups = SIMD8<UInt16>()
        var count = 0
        /// The groups of `part` (`:`-separated, the last one possibly IPv4), appended; false
        /// when a group is malformed or there are more than eight.
        func read(_ part: Slice<UnsafeBufferPointer<UInt8>>) -> Bool {
            guard !part.isEmpty else { return true }
            var start = part.startIndex
            while true {
                let end = part[start...].firstIndex(of: colon) ?? part.endIndex
                let piece = part[start..<end]
                if end == part.endIndex, piece.contains(dot) {
                    guard let (v4, bits) = ipv4(piece), bits == 32, count <= 6 else { return false }
                    (groups[count], groups[count + 1]) = (UInt16(v4 >> 16), UInt16(v4 & 0xffff))
                    count += 2
                } else {
                    guard (1...4).contains(piece.count), count < 8 else { return false }
                    var value: UInt16 = 0
                    for byte in piece {
                        guard let digit = hexDigit(byte) else { return false }
                        value = value << 4 | UInt16(digit)
                    }
                    groups[count] = value
                    count += 1
                }
                if end == part.endIndex { return true }
                start = end + 1
            }
        }
        if let gap {
            guard read(bytes[..<gap]) else { return nil }
            let head = count
            guard read(bytes[(gap + 2)...]), count <= 7 else { return nil }
            // The groups after the gap move to the end; zeros fill in behind them.
            let zeros = 8 - count
            for g in stride(from: count - 1, through: head, by: -1) { groups[g + zeros] = groups[g] }
            for g in head..<(head + zeros) { groups[g] = 0 }
        } else {
            guard read(bytes[...]), count == 8 else { return nil }
        }
        return (0..<4).map { UInt32(groups[2 * $0]) << 16 | UInt32(groups[2 * $0 + 1]) }
    }
}
