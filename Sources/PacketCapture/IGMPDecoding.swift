/// IGMP (RFC 1112, 2236, 3376) as tcpdump prints it without -v: queries with their version,
/// maximum response time and group, reports and leaves with their group, and a v3 report's
/// number of group records. DVMRP, PIMv1 and mtrace, which tcpdump also reads, stay undecoded.
extension PacketDecoding {
    mutating func igmp(at offset: Int, length: Int) {
        guard let type = u8(offset) else { return truncated("igmp") }
        var message = IGMPMessage(type: type, text: "")
        var complete = true
        switch type {
        case 0x11:
            message.text = "igmp query"
            if length >= 12 {
                complete = igmpV3Query(&message.text, at: offset, length: length)
            } else if let maximum = u8(offset + 1), let group = u32(offset + 4) {
                message.text += maximum != 0 ? " v2" + (maximum != 100 ? " [max resp time \(maximum)]" : "") : " v1"
                if group != 0 { message.text += " [gaddr \(host(.v4(IPv4Address(group))))]" }
                if length != 8 { message.text += " [len \(length)]" }
            } else {
                complete = false
            }
        case 0x12, 0x16, 0x17:
            message.text = type == 0x12 ? "igmp v1 report" : type == 0x16 ? "igmp v2 report" : "igmp leave"
            guard let group = u32(offset + 4) else {
                complete = false
                break
            }
            message.text += " \(host(.v4(IPv4Address(group))))"
            if type == 0x12 && length != 8 { message.text += " [len \(length)]" }
        case 0x22:
            message.text = "igmp v3 report"
            if length < 16 || length % 4 != 0 {
                message.text += " [invalid len \(length)]"
            } else if let groups = u16(offset + 6) {
                message.text += ", \(groups) group record(s)"
                if verbosity > 0, !igmpGroupRecords(&message.text, count: Int(groups), at: offset, length: length) { complete = false }
            } else {
                complete = false
            }
        case 0x13, 0x14, 0x1e, 0x1f:
            // tcpdump's first words, then the protocol left undecoded.
            let (words, name) = [0x13: ("igmp dvmrp", "DVMRP"), 0x14: ("igmp pimv1", "PIMv1"), 0x1e: ("mresp", "mtrace")][type] ?? ("mtrace", "mtrace")
            message.text = words
            add(.igmp(message))
            return undecoded(name)
        default:
            message.text = "igmp-\(type)"
        }
        add(.igmp(message))
        if !complete { truncated("igmp") }
    }

    /// A version 3 query's fields after " v3"; false when the captured bytes end first.
    func igmpV3Query(_ text: inout String, at offset: Int, length: Int) -> Bool {
        text += " v3"
        guard length % 4 == 0 else {
            text += " [invalid len \(length)]"
            return true
        }
        guard let code = u8(offset + 1) else { return false }
        // Codes from 128 on are a floating-point form: mantissa and exponent.
        let time = code < 128 ? Int(code) : (Int(code & 0x0f) | 0x10) << (Int((code & 0x70) >> 4) + 3)
        if code != 100 {
            text += " [max resp time " + (time < 600 ? "\(time / 10).\(time % 10)s" : Self.relativeTime(time / 10)) + "]"
        }
        guard let group = u32(offset + 4) else { return false }
        guard group != 0 else { return true }
        text += " [gaddr \(host(.v4(IPv4Address(group))))"
        guard let sources = u16(offset + 10) else { return false }
        if sources > 0 {
            if length < 12 + Int(sources) * 4 {
                text += " [invalid number of sources]"
            } else if !sourceList(&text, at: offset + 12, count: Int(sources), addressLength: 4) {
                return false
            }
        }
        text += "]"
        return true
    }

    /// A group's sources: -v counts them (`, 2 source(s)`), -vv lists them (` { 192.0.2.1
    /// 192.0.2.2 }`); false when the capture ends inside the list, which then stays open.
    func sourceList(_ text: inout String, at offset: Int, count: Int, addressLength: Int) -> Bool {
        guard verbosity > 1 else {
            text += ", \(count) source(s)"
            return true
        }
        text += " {"
        for index in 0..<count {
            guard let address = bytes(offset + index * addressLength, addressLength) else { return false }
            text += " " + host(address: address)
        }
        text += " }"
        return true
    }

    /// Seconds as tcpdump writes a span: `1h2m3s`, `0s`.
    static func relativeTime(_ seconds: Int) -> String {
        guard seconds > 0 else { return "0s" }
        var left = seconds, text = ""
        for (unit, size) in zip(["y", "w", "d", "h", "m", "s"], [31_536_000, 604_800, 86_400, 3600, 60, 1]) where left >= size {
            text += "\(left / size)\(unit)"
            left %= size
        }
        return text
    }

    /// -v: IGMPv3's group records with their sources; false when cut short.
    func igmpGroupRecords(_ text: inout String, count: Int, at offset: Int, length: Int) -> Bool {
        var record = 8
        for _ in 0..<count {
            guard length >= record + 8 else {
                text += " [invalid number of groups]"
                return true
            }
            guard let group = u32(offset + record + 4), let kind = u8(offset + record), let sources = u16(offset + record + 2).map(Int.init) else { return false }
            text += " [gaddr \(host(.v4(IPv4Address(group)))) " + (Self.groupRecordTypes[kind] ?? " [v3-report-#\(kind)]")
            guard length >= record + 8 + sources * 4 else {
                text += " [invalid number of sources \(sources)]"
                return true
            }
            guard sourceList(&text, at: offset + record + 8, count: sources, addressLength: 4) else { return false }
            text += "]"
            record += 8 + sources * 4
        }
        return true
    }

    /// IGMPv3's and MLDv2's group record types.
    static let groupRecordTypes: [UInt8: String] = [1: "is_in", 2: "is_ex", 3: "to_in", 4: "to_ex", 5: "allow", 6: "block"]
}
