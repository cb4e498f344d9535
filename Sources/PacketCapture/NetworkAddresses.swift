/// The addresses a decoded packet names, printed the way `tcpdump -n` prints them. They
/// encode to JSON as those strings.

/// A 48-bit Ethernet (MAC) address: `00:1a:2b:3c:4d:5e`.
public struct MACAddress: Sendable, Hashable, CustomStringConvertible, Encodable {
    public var bytes: [UInt8]

    public init(_ bytes: some Collection<UInt8>) { self.bytes = Array(bytes) }

    public var description: String { hexPairs(bytes) }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }
}

/// An IPv4 address: `192.0.2.1`.
public struct IPv4Address: Sendable, Hashable, CustomStringConvertible, Encodable {
    public var value: UInt32

    public init(_ value: UInt32) { self.value = value }

    public var description: String {
        "\(value >> 24).\(value >> 16 & 0xff).\(value >> 8 & 0xff).\(value & 0xff)"
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }
}

/// An IPv6 address, in RFC 5952 text (`2001:db8::1`, `::ffff:192.0.2.1`) as tcpdump writes it:
/// the longest run of two or more zero groups becomes `::`, IPv4-mapped and -compatible
/// addresses end in dotted quad.
public struct IPv6Address: Sendable, Hashable, CustomStringConvertible, Encodable {
    public var bytes: [UInt8]

    public init(_ bytes: some Collection<UInt8>) { self.bytes = Array(bytes) }

    public var description: String {
        guard bytes.count == 16 else { return hexPairs(bytes) }
        let words = (0..<8).map { UInt16(bytes[2 * $0]) << 8 | UInt16(bytes[2 * $0 + 1]) }
        // The longest run of zero words; the first one wins a tie.
        var best = (base: -1, length: 0), current = (base: -1, length: 0)
        for (index, word) in words.enumerated() {
            if word == 0 {
                current = current.base == -1 ? (index, 1) : (current.base, current.length + 1)
                if current.length > best.length { best = current }
            } else {
                current = (-1, 0)
            }
        }
        if best.length < 2 { best = (-1, 0) }
        var text = ""
        var index = 0
        while index < 8 {
            if index == best.base {
                text += ":"
                index += best.length
                if index == 8 { text += ":" }
                continue
            }
            if index != 0 { text += ":" }
            if index == 6 && best.base == 0 && (best.length == 6 || (best.length == 5 && words[5] == 0xffff)) {
                text += "\(bytes[12]).\(bytes[13]).\(bytes[14]).\(bytes[15])"
                break
            }
            text += String(words[index], radix: 16)
            index += 1
        }
        return text
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }
}

/// An IPv4 or IPv6 address.
public enum IPAddress: Sendable, Hashable, CustomStringConvertible, Encodable {
    case v4(IPv4Address)
    case v6(IPv6Address)

    public var description: String {
        switch self {
        case .v4(let address): address.description
        case .v6(let address): address.description
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }
}

/// `0a:1b:2c`: lowercase hex pairs joined by colons.
func hexPairs(_ bytes: [UInt8]) -> String {
    bytes.map { ($0 < 16 ? "0" : "") + String($0, radix: 16) }.joined(separator: ":")
}
