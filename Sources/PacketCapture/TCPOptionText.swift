/// The words tcpdump prints for the TCP options whose text depends on their contents:
/// Multipath TCP (RFC 8684) and TCP Fast Open (RFC 7413), on its own kind or as an
/// experimental option.
extension TCPOption {
    static let mptcpSubtypeNames = ["capable", "join", "dss", "add-addr", "rem-addr", "prio", "fail", "fast-close", "unknown"]
    static let mptcpAddressVersions: [UInt8: String] = [0x6: "v0-ip6", 0x4: "v0-ip4", 0x1: "v1-echo", 0x0: "v1"]

    /// What follows "mptcp" (the option length, the subtype and its fields), and whether
    /// tcpdump accepts the option; it prints `[bad opt]` after the text when not. `flags`
    /// are the segment's, which decide the forms a subtype may take.
    /// `names` names the addresses an add-address option carries, as tcpdump without -n.
    func mptcpText(flags: UInt8, names: PrintedNames? = nil) -> (text: String, valid: Bool) {
        let length = self.length
        guard length >= 3, data.count == length - 2 else { return ("", false) }
        let reader = OptionBytes(data)
        let subtype = min(Int(data[0] >> 4), 8)
        var text = " \(length) \(Self.mptcpSubtypeNames[subtype])"
        let syn = flags & 0x02 != 0, ack = flags & 0x10 != 0
        switch subtype {
        case 0:  // capable
            guard ([12, 4].contains(length) && syn) || ([20, 22].contains(length) && ack && !syn) else { return (text, false) }
            let version = data[0] & 0x0f
            guard version <= 1 else { return (text + " Unknown Version (\(version))", true) }
            text += " v\(version)"
            if reader.u8(1) & 0x80 != 0 { text += " csum" }
            if length == 12 || length >= 20 {
                text += " {0x" + String(reader.u64(2), radix: 16)
                if length >= 20 { text += ",0x" + String(reader.u64(10), radix: 16) }
                text += "}"
            }
        case 1:  // join
            guard (length == 12 && syn) || (length == 16 && syn && ack) || (length == 24 && ack) else { return (text, false) }
            if length != 24 {
                if data[0] & 0x01 != 0 { text += " backup" }
                text += " id \(reader.u8(1))"
            }
            switch length {
            case 12: text += " token 0x\(String(reader.u32(2), radix: 16)) nonce 0x\(String(reader.u32(6), radix: 16))"
            case 16: text += " hmac 0x\(String(reader.u64(2), radix: 16)) nonce 0x\(String(reader.u32(10), radix: 16))"
            default: text += " hmac 0x" + data[2..<22].map { hex($0, width: 2) }.joined()
            }
        case 2:  // dss
            guard length >= 4, !syn else { return (text, false) }
            let dssFlags = data[1]
            if dssFlags & 0x10 != 0 { text += " fin" }
            var at = 2
            // A number of 8 bytes when `wide`, else 4, if that many are left.
            func number(_ wide: Bool) -> String? {
                let size = wide ? 8 : 4
                guard data.count - at >= size else { return nil }
                defer { at += size }
                return wide ? "\(reader.u64(at))" : "\(reader.u32(at))"
            }
            if dssFlags & 0x01 != 0 {
                text += " ack "
                guard let value = number(dssFlags & 0x02 != 0) else { return (text, false) }
                text += value
            }
            if dssFlags & 0x04 != 0 {
                text += " seq "
                guard let sequence = number(dssFlags & 0x08 != 0) else { return (text, false) }
                text += sequence
                guard let subflowSequence = number(false) else { return (text, false) }
                text += " subseq \(subflowSequence)"
                guard data.count - at >= 2 else { return (text, false) }
                text += " len \(reader.u16(at))"
                at += 2
                if data.count - at >= 2 {
                    text += " csum 0x\(String(reader.u16(at), radix: 16))"
                    at += 2
                }
            }
            return (text, at == data.count)
        case 3:  // add-addr
            guard [8, 10, 16, 18, 20, 22, 28, 30].contains(length) else { return (text, false) }
            text += " " + (Self.mptcpAddressVersions[data[0] & 0x0f] ?? "[bad version/echo]")
            text += " id \(reader.u8(1))"
            if [8, 10, 16, 18].contains(length) {
                let address = IPAddress.v4(IPv4Address(reader.u32(2)))
                text += " " + (names?.host(address) ?? address.description)
                if length == 10 || length == 18 { text += ":\(reader.u16(6))" }
                if length == 16 { text += " hmac 0x" + String(reader.u64(6), radix: 16) }
                if length == 18 { text += " hmac 0x" + String(reader.u64(8), radix: 16) }
            } else {
                let address = IPAddress.v6(IPv6Address(data[2..<18]))
                text += " " + (names?.host(address) ?? address.description)
                if length == 22 || length == 30 { text += ":\(reader.u16(18))" }
                if length == 28 { text += " hmac 0x" + String(reader.u64(18), radix: 16) }
                if length == 30 { text += " hmac 0x" + String(reader.u64(20), radix: 16) }
            }
        case 4:  // rem-addr
            guard length >= 4 else { return (text, false) }
            text += " id" + data.dropFirst().map { " \($0)" }.joined()
        case 5:  // prio
            guard length == 3 || length == 4 else { return (text, false) }
            text += data[0] & 0x01 != 0 ? " backup" : " non-backup"
            if length == 4 { text += " id \(data[1])" }
        case 6:  // fail
            guard length == 12 else { return (text, false) }
            text += " seq \(reader.u64(2))"
        case 7:  // fast-close
            guard length == 12 else { return (text, false) }
            text += " key 0x" + String(reader.u64(2), radix: 16)
        default:
            break
        }
        return (text, true)
    }

    /// TCP Fast Open's cookie (or a request for one) from the option's `cookie` bytes.
    static func fastOpenText(_ cookie: ArraySlice<UInt8>) -> String {
        if cookie.isEmpty { return " cookiereq" }
        guard cookie.count % 2 == 0, (4...16).contains(cookie.count) else { return " (invalid)" }
        return " cookie " + cookie.map { hex($0, width: 2) }.joined()
    }
}

/// Big-endian reads at offsets already checked against the bytes' count; 0 past the end.
private struct OptionBytes {
    let bytes: [UInt8]
    init(_ bytes: [UInt8]) { self.bytes = bytes }

    func u8(_ at: Int) -> UInt8 { at >= 0 && at < bytes.count ? bytes[at] : 0 }
    func u16(_ at: Int) -> UInt16 { UInt16(u8(at)) << 8 | UInt16(u8(at + 1)) }
    func u32(_ at: Int) -> UInt32 { UInt32(u16(at)) << 16 | UInt32(u16(at + 2)) }
    func u64(_ at: Int) -> UInt64 { UInt64(u32(at)) << 32 | UInt64(u32(at + 4)) }
}
