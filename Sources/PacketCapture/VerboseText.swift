/// What tcpdump -v adds to a line: the IP headers' fields in parentheses, checksums, the
/// data of a TCP reset.
extension PacketPrinter {
    /// `(tos 0x0, ttl 64, id 1, offset 0, flags [DF], proto TCP (6), length 60)` and the
    /// break to the next line, indented by 4, where the addresses follow.
    static func ipv4Details(_ header: IPv4Header) -> String {
        var text = "(tos 0x" + String(header.typeOfService, radix: 16)
        text += ["", ",ECT(1)", ",ECT(0)", ",CE"][Int(header.typeOfService & 3)]
        if header.timeToLive >= 1 { text += ", ttl \(header.timeToLive)" }
        let flags = [(header.moreFragments, "+"), (header.dontFragment, "DF"), (header.reservedFlag, "rsvd")].filter(\.0).map(\.1)
        text += ", id \(header.identification), offset \(header.fragmentOffset), flags [\(flags.isEmpty ? "none" : flags.joined(separator: ", "))]"
        text += ", proto \(ipProtocolNames[header.protocolNumber] ?? "unknown") (\(header.protocolNumber)), length \(header.totalLength)"
        if let options = header.options { text += ", options (\(options))" }
        if let checksum = header.headerChecksum, !checksum.isCorrect {
            text += ", bad cksum \(String(checksum.stored, radix: 16)) (->\(String(checksum.expected, radix: 16)))!"
        }
        return text + ")\n    "
    }

    /// `(class 0xe0, flowlabel 0x12345, hlim 64, next-header UDP (17) payload length: 37) `.
    static func ipv6Details(_ header: IPv6Header) -> String {
        var text = "("
        if header.trafficClass != 0 { text += "class 0x\(hex(header.trafficClass, width: 2)), " }
        if header.flowLabel != 0 { text += "flowlabel 0x\(hex(header.flowLabel, width: 5)), " }
        text += "hlim \(header.hopLimit), next-header \(ipProtocolNames[header.nextHeader] ?? "unknown") (\(header.nextHeader))"
        return text + " payload length: \(header.payloadLength)) "
    }

    /// TCP's `, cksum 0x1c46 (correct)` or `(incorrect -> 0x…)`.
    static func tcpChecksumText(_ checksum: ChecksumCheck) -> String {
        ", cksum 0x\(hex(checksum.stored, width: 4)) " + (checksum.isCorrect ? "(correct)" : "(incorrect -> 0x\(hex(checksum.expected, width: 4)))")
    }

    /// UDP's `[udp sum ok] ` or `[bad udp cksum 0x… -> 0x…!] `, `[no cksum] ` when left out.
    static func udpChecksumText(_ datagram: UDPDatagram) -> String {
        if datagram.checksumAbsent { return "[no cksum] " }
        guard let checksum = datagram.checksum else { return "" }
        return checksum.isCorrect ? "[udp sum ok] " : "[bad udp cksum 0x\(hex(checksum.stored, width: 4)) -> 0x\(hex(checksum.expected, width: 4))!] "
    }

    /// ` [RST text]`: a reset's payload as text, `!` when not all of it was captured and
    /// `+` when it is longer than the 30 bytes shown.
    static func resetDataText(_ segment: TCPSegment) -> String {
        guard let data = segment.resetData else { return "" }
        var text = segment.resetDataComplete ? " [RST" : " [!RST"
        if segment.payloadLength > 30 { text += "+" }
        return text + " " + data.map(printableCharacter).joined() + "]"
    }

    /// tcpdump's names for IP protocol numbers (its `ipproto_values`).
    static let ipProtocolNames: [UInt8: String] = [
        0: "Options", 1: "ICMP", 2: "IGMP", 4: "IPIP", 6: "TCP", 8: "EGP", 9: "IGRP", 17: "UDP", 33: "DCCP", 41: "IPv6",
        43: "Routing", 44: "Fragment", 46: "RSVP", 47: "GRE", 50: "ESP", 51: "AH", 55: "Mobile IP", 58: "ICMPv6",
        62: "Mobile IP (old)", 88: "EIGRP", 89: "OSPF", 103: "PIM", 108: "Compressed IP", 112: "VRRP", 113: "PGM",
        132: "SCTP", 135: "Mobility", 143: "Ethernet",
    ]
}

/// A byte as tcpdump prints text from a packet: `M-` before a byte with the top bit set,
/// `^` before a control character (`^@` for 0, `^?` for DEL).
func printableCharacter(_ byte: UInt8) -> String {
    var byte = byte
    var text = ""
    if byte >= 0x80 {
        byte &= 0x7f
        text += "M-"
    }
    if byte < 0x20 || byte == 0x7f {
        byte ^= 0x40
        text += "^"
    }
    return text + String(UnicodeScalar(byte))
}
