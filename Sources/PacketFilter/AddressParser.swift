/// Numbers and addresses as libpcap's lexer reads them, without the C library.
enum AddressParser {
    /// Decimal, `0x` hex or leading-zero octal, as libpcap's `stoulen`; nil past 32 bits.
    static func number(_ text: String) -> UInt32? {
        // Over the UTF-8 bytes: walking Characters cost more than the rest of a short compile.
        var digits = Substring(text).utf8
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
        guard !digits.isEmpty else { return nil }
        var value: UInt32 = 0
        for byte in digits {
            let digit: UInt32
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = UInt32(byte - UInt8(ascii: "0"))
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = UInt32(byte - UInt8(ascii: "a")) + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = UInt32(byte - UInt8(ascii: "A")) + 10
            default: return nil
            }
            guard digit < radix else { return nil }
            let (m, o1) = value.multipliedReportingOverflow(by: radix)
            let (s, o2) = m.addingReportingOverflow(digit)
            if o1 || o2 { return nil }
            value = s
        }
        return value
    }

    /// `a`, `a.b`, `a.b.c` or `a.b.c.d`, each part 0–255: the address (left-aligned) and how
    /// many bits were given, as libpcap's `__pcap_atoin`.
    static func ipv4(_ text: String) -> (address: UInt32, bits: Int)? {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        guard (1...4).contains(parts.count) else { return nil }
        var address: UInt32 = 0
        for part in parts {
            guard !part.isEmpty, part.allSatisfy(\.isASCII), let value = UInt32(part), value <= 255 else { return nil }
            address = address << 8 | value
        }
        return (address << (8 * UInt32(4 - parts.count)), 8 * parts.count)
    }

    /// Six hex bytes separated by `:`, `-` or `.` (the last as `xxxx.xxxx.xxxx`).
    static func macAddress(_ text: String) -> [UInt8]? {
        var bytes: [UInt8] = []
        if text.contains(":") || text.contains("-") {
            let parts = text.split(whereSeparator: { $0 == ":" || $0 == "-" }).map(String.init)
            guard parts.count == 6, text.split(omittingEmptySubsequences: false, whereSeparator: { $0 == ":" || $0 == "-" }).count == 6 else { return nil }
            for part in parts {
                guard (1...2).contains(part.count), let v = UInt8(part, radix: 16) else { return nil }
                bytes.append(v)
            }
        } else if text.contains(".") {
            let parts = text.split(separator: ".", omittingEmptySubsequences: false)
            guard parts.count == 3 else { return nil }
            for part in parts {
                guard part.count == 4, let v = UInt16(part, radix: 16) else { return nil }
                bytes += [UInt8(v >> 8), UInt8(v & 0xff)]
            }
        } else {
            return nil
        }
        return bytes
    }

    /// An IPv6 address in the forms of RFC 4291 (with `::` and an embedded IPv4 tail) as four words.
    static func ipv6Address(_ text: String) -> [UInt32]? {
        guard text.contains(":"), text.allSatisfy({ $0.isHexDigit || $0 == ":" || $0 == "." }) else { return nil }
        let halves = text.splitting(on: "::")
        guard halves.count <= 2 else { return nil }
        func groups(_ part: String) -> [UInt16]? {
            if part.isEmpty { return [] }
            var result: [UInt16] = []
            let pieces = part.split(separator: ":", omittingEmptySubsequences: false)
            for (i, piece) in pieces.enumerated() {
                if i == pieces.count - 1, piece.contains(".") {
                    guard let (v4, bits) = ipv4(String(piece)), bits == 32 else { return nil }
                    result += [UInt16(v4 >> 16), UInt16(v4 & 0xffff)]
                } else {
                    guard (1...4).contains(piece.count), let v = UInt16(piece, radix: 16) else { return nil }
                    result.append(v)
                }
            }
            return result
        }
        guard let head = groups(halves[0]) else { return nil }
        var all = head
        if halves.count == 2 {
            guard let tail = groups(halves[1]), head.count + tail.count <= 7 else { return nil }
            all += [UInt16](repeating: 0, count: 8 - head.count - tail.count) + tail
        }
        guard all.count == 8 else { return nil }
        return (0..<4).map { UInt32(all[2 * $0]) << 16 | UInt32(all[2 * $0 + 1]) }
    }
}

extension String {
    /// Splits on a separator string; the standard library has no such split for strings.
    func splitting(on separator: String) -> [String] {
        var result: [String] = []
        var rest = Substring(self)
        while let range = rest.firstRange(of: separator) {
            result.append(String(rest[..<range.lowerBound]))
            rest = rest[range.upperBound...]
        }
        result.append(String(rest))
        return result
    }
}
