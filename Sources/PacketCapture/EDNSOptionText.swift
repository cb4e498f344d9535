/// The options of a DNS OPT record (EDNS(0), RFC 6891) as tcpdump prints them after
/// `UDPsize=`: ` [COOKIE 0123456789abcdef,PADDING (12)]`.
extension PacketDecoding {
    static let ednsOptionNames: [UInt16: String] = [
        1: "LLQ", 2: "UL", 3: "NSID", 5: "DAU", 6: "DHU", 7: "N3U", 8: "ECS", 9: "EXPIRE", 10: "COOKIE",
        11: "KEEPALIVE", 12: "PADDING", 13: "CHAIN", 14: "KEY-TAG", 16: "CLIENT-TAG", 17: "SERVER-TAG",
    ]
    /// DNSSEC algorithms (DAU), DS digests (DHU) and NSEC3 hashes (N3U) by number (RFC 6975).
    static let signingAlgorithmNames: [UInt8: String] = [
        0: "DELETE", 1: "RSAMD5", 2: "DH", 3: "DS", 5: "RSASHA1", 6: "DSA-NSEC3-SHA1", 7: "RSASHA1-NSEC3-SHA1",
        8: "RSASHA256", 10: "RSASHA512", 12: "ECC-GOST", 13: "ECDSAP256SHA256", 14: "ECDSAP384SHA384",
        15: "ED25519", 16: "ED448", 252: "INDIRECT", 253: "PRIVATEDNS", 254: "PRIVATEOID",
    ]
    static let digestAlgorithmNames: [UInt8: String] = [1: "SHA-1", 2: "SHA-256", 3: "GOST_R_34.11-94", 4: "SHA-384"]
    static let hashAlgorithmNames: [UInt8: String] = [1: "SHA-1"]

    /// Appends the options from `start` up to `stop` (the record's end); false when one is
    /// cut short by the capture, with the text holding what tcpdump prints before it stops.
    func ednsOptions(_ text: inout String, at start: Int, end stop: Int) -> Bool {
        text += " ["
        var cursor = start
        while cursor < stop {
            guard let code = u16(cursor) else { return false }
            text += Self.ednsOptionNames[code] ?? "Opt\(code)"
            guard let length = u16(cursor + 2).map(Int.init) else { return false }
            let data = cursor + 4
            // An option may claim more than its record holds; only the capture limits it.
            guard has(data, length) else { return false }
            if length > 0 { text += " " + ednsOptionValue(code, at: data, length: length) }
            cursor = data + length
            if cursor < stop { text += "," }
        }
        text += "]"
        return true
    }

    /// One option's data, all of it captured.
    func ednsOptionValue(_ code: UInt16, at data: Int, length: Int) -> String {
        let invalid = " (invalid)"
        let bytes = self.bytes(data, length) ?? []
        switch code {
        case 8:
            return clientSubnet(bytes) ?? invalid
        case 10:
            // A client cookie (8 bytes), then perhaps a server cookie of 8 to 32.
            guard length == 8 || (16...40).contains(length) else { return invalid }
            let digits = bytes.map { hex($0, width: 2) }
            return digits.prefix(8).joined() + (length > 8 ? " " + digits.dropFirst(8).joined() : "")
        case 11:
            // In units of 100 ms.
            guard length == 2, let units = u16(data) else { return invalid }
            return "\(units / 10).\(units % 10) sec"
        case 9:
            guard length == 4, let seconds = u32(data) else { return invalid }
            return "\(seconds) sec"
        case 12:
            return "(\(length))"
        case 14:
            guard length % 2 == 0 else { return invalid }
            return stride(from: 0, to: length, by: 2).map { "\(u16(data + $0) ?? 0)" }.joined(separator: " ")
        case 5, 6, 7:
            let names = code == 5 ? Self.signingAlgorithmNames : code == 6 ? Self.digestAlgorithmNames : Self.hashAlgorithmNames
            return bytes.map { names[$0] ?? "Alg_\($0)" }.joined(separator: " ")
        case 13:
            // tcpdump reads the closest trust point's name with the option's end as the
            // message start, so no compression pointer in it can be followed.
            return domainName(at: data, message: data + length).0
        default:
            return bytes.map { hex($0, width: 2) }.joined()
        }
    }

    /// EDNS Client Subnet (RFC 7871): `192.0.2.0/24/0` (address/source/scope prefix
    /// lengths); nil when the option is malformed.
    func clientSubnet(_ bytes: [UInt8]) -> String? {
        guard bytes.count >= 4 else { return nil }
        let family = UInt16(bytes[0]) << 8 | UInt16(bytes[1])
        let source = Int(bytes[2]), scope = Int(bytes[3])
        let addressBits: Int
        switch family {
        case 1: addressBits = 32
        case 2: addressBits = 128
        default: return nil
        }
        let address = bytes.dropFirst(4)
        guard address.count <= addressBits / 8, source <= addressBits, scope <= addressBits, (source + 7) / 8 == address.count else {
            return nil
        }
        let padded = Array(address) + [UInt8](repeating: 0, count: addressBits / 8 - address.count)
        let text = family == 1
            ? IPv4Address(padded.reduce(0) { $0 << 8 | UInt32($1) }).description
            : IPv6Address(padded).description
        return "\(text)/\(source)/\(scope)"
    }
}
