/// EIGRP (RFC 7868) as tcpdump prints it: the opcode and the length; with -v the header's
/// fields and each TLV on lines of their own.
extension PacketDecoding {
    static let eigrpOpcodes: [UInt8: String] = [1: "Update", 3: "Query", 4: "Reply", 5: "Hello", 6: "IPX SAP", 7: "Probe"]

    mutating func eigrp(at offset: Int, length: Int) {
        // tcpdump wants the whole 20-byte header captured before it prints anything.
        guard has(offset, 20), let version = u8(offset), let opcode = u8(offset + 1) else { return truncated("eigrp") }
        let name = Self.eigrpOpcodes[opcode]
        guard version == 2, verbosity > 0 else {
            let text = version != 2
                ? "EIGRP version \(version) packet not supported"
                : "EIGRP \(name ?? "unknown (\(opcode))"), length: \(length)"
            return add(.eigrp(EIGRPMessage(version: version, opcode: opcode, text: text)))
        }
        guard length >= 20 else {
            let text = "EIGRP \(name ?? "unknown (\(opcode))"), length: \(length) (too short, < 20)"
            return add(.eigrp(EIGRPMessage(version: version, opcode: opcode, text: text)))
        }
        let flags = u32(offset + 4) ?? 0
        let flagNames = [(UInt32(1), "Init"), (2, "Conditionally Received"), (4, "Restart"), (8, "End-of-Table")].filter { flags & $0.0 != 0 }.map(\.1)
        var text = "\n\tEIGRP v2, opcode: \(name ?? "unknown, type: \(opcode)") (\(opcode)), chksum: 0x\(hex(u16(offset + 2) ?? 0, width: 4))"
        text += ", Flags: [\(flagNames.isEmpty ? "none" : flagNames.joined(separator: ", "))]"
        text += "\n\tseq: 0x\(hex(u32(offset + 8) ?? 0, width: 8)), ack: 0x\(hex(u32(offset + 12) ?? 0, width: 8))"
        text += ", VRID: \(u16(offset + 16) ?? 0), AS: \(u16(offset + 18) ?? 0), length: \(length - 20)"
        var cursor = offset + 20
        var left = length - 20
        var complete = true
        while left > 0 {
            guard has(cursor, 4), let type = u16(cursor), let tlvLength = u16(cursor + 2).map(Int.init) else { complete = false; break }
            guard tlvLength >= 4, tlvLength <= left else {
                text += hexDump(at: cursor + 4, count: left)
                break
            }
            text += "\n\t  \(Self.eigrpTLVNames[type] ?? "Unknown") TLV (0x\(hex(type, width: 4))), length: \(tlvLength)"
            guard has(cursor, tlvLength) else { complete = false; break }
            text += eigrpTLV(type, at: cursor + 4, length: tlvLength - 4)
            // -vv dumps every TLV's value in hex too.
            if verbosity > 1 { text += hexDump(at: cursor + 4, count: tlvLength - 4) }
            cursor += tlvLength
            left -= tlvLength
        }
        add(.eigrp(EIGRPMessage(version: version, opcode: opcode, text: text)))
        if !complete { truncated("eigrp") }
    }

    /// One TLV's value (all captured), as tcpdump -v prints it.
    func eigrpTLV(_ type: UInt16, at start: Int, length: Int) -> String {
        let byte = { (at: Int) in Int(self.u8(start + at) ?? 0) }
        let word = { (at: Int) in self.u32(start + at) ?? 0 }
        let tooShort = { (size: Int) in " (too short, < \(size + 4))" }
        switch type {
        case 0x0001:
            guard length >= 8 else { return tooShort(8) }
            return "\n\t    holdtime: \(u16(start + 6) ?? 0)s, k1 \(byte(0)), k2 \(byte(1)), k3 \(byte(2)), k4 \(byte(3)), k5 \(byte(4))"
        case 0x0004:
            guard length >= 4 else { return tooShort(4) }
            return "\n\t    IOS version: \(byte(0)).\(byte(1)), EIGRP version \(byte(2)).\(byte(3))"
        case 0x0102, 0x0103:
            let external = type == 0x0103
            // Where the prefix length is; at least one byte of prefix follows.
            let prefixLengthAt = external ? 40 : 20
            guard length >= prefixLengthAt + 2 else { return tooShort(prefixLengthAt + 2) }
            let bits = byte(prefixLengthAt)
            guard bits <= 32 else { return "\n\t    illegal prefix length \(bits)" }
            var prefix = [UInt8](repeating: 0, count: 4)
            for index in 0..<(bits + 7) / 8 { prefix[index] = UInt8(byte(prefixLengthAt + 1 + index)) }
            let prefixText = host(.v4(IPv4Address(prefix.reduce(0) { $0 << 8 | UInt32($1) })))
            let nextHop = word(0)
            var text = "\n\t    IPv4 prefix: \(String(repeating: " ", count: max(0, 15 - prefixText.count)))\(prefixText)/\(bits), nexthop: "
            text += nextHop == 0 ? "self" : host(.v4(IPv4Address(nextHop)))
            let metrics = external ? 24 : 4
            if external {
                text += "\n\t      origin-router \(host(.v4(IPv4Address(word(4))))), origin-as \(word(8)), origin-proto \(Self.eigrpOrigins[byte(22)] ?? "unknown")"
                text += ", flags [0x\(hex(byte(23), width: 2))], tag 0x\(hex(word(12), width: 8)), metric \(word(16))"
            }
            text += "\n\t      delay \(word(metrics) / 100) ms, bandwidth \(word(metrics + 4)) Kbps, mtu \(byte(metrics + 8) << 16 | byte(metrics + 9) << 8 | byte(metrics + 10))"
            text += ", hop \(byte(metrics + 11)), reliability \(byte(metrics + 12)), load \(byte(metrics + 13))"
            return text
        case 0x0204:
            guard length >= 8 else { return tooShort(8) }
            return "\n\t    Cable-range: \(u16(start) ?? 0)-\(u16(start + 2) ?? 0), Router-ID \(word(4))"
        default:
            // tcpdump dumps the TLVs it does not take apart in hex (AppleTalk's and IPX's too).
            return verbosity <= 1 ? hexDump(at: start, count: length) : ""
        }
    }

    /// tcpdump's dump of bytes it does not dissect, one indented line per 16 bytes, as far
    /// as they were captured.
    func hexDump(at start: Int, count: Int, prefix: String = "\n\t    ") -> String {
        let available = min(count, max(0, end - start))
        guard let data = bytes(start, available) else { return "" }
        return PacketBytesText.hexLines(data, ascii: false, prefix: prefix)
    }

    static let eigrpTLVNames: [UInt16: String] = [
        0x0001: "General Parameters", 0x0002: "Authentication", 0x0003: "Sequence", 0x0004: "Software Version",
        0x0005: "Next Multicast Sequence", 0x0102: "IP Internal routes", 0x0103: "IP External routes",
        0x0202: "AppleTalk Internal routes", 0x0203: "AppleTalk External routes", 0x0204: "AppleTalk Cable setup",
        0x0302: "IPX Internal routes", 0x0303: "IPX External routes",
    ]

    static let eigrpOrigins: [Int: String] = [
        1: "IGRP", 2: "EIGRP", 3: "Static", 4: "RIP", 5: "Hello", 6: "OSPF", 7: "IS-IS", 8: "EGP", 9: "BGP", 10: "IDRP", 11: "Connected",
    ]
}
