/// VRRP (RFC 3768, 9568) as tcpdump prints it without -v: the version and type, the IP
/// TTL or hop limit when it is not 255, and an advertisement's router ID, priority,
/// authentication type (version 2) and interval.
extension PacketDecoding {
    mutating func vrrp(at offset: Int, length: Int) {
        var message = VRRPMessage(version: 0, type: 0, text: "VRRP")
        defer { add(.vrrp(message)) }
        guard let first = u8(offset) else { return truncated("vrrp") }
        message.version = first >> 4
        message.type = first & 0x0f
        message.text += "v\(message.version), " + (message.type == 1 ? "Advertisement" : "unknown type (\(message.type))")
        let timeToLive: UInt8? = summary.layers.reversed().lazy.compactMap { layer -> UInt8? in
            switch layer {
            case .ipv4(let header): header.timeToLive
            case .ipv6(let header): header.hopLimit
            default: nil
            }
        }.first
        if let timeToLive, timeToLive != 255 { message.text += ", (ttl \(timeToLive))" }
        guard (2...3).contains(message.version), message.type == 1 else { return }
        guard let router = u8(offset + 1), let priority = u8(offset + 2) else { return truncated("vrrp") }
        message.text += ", vrid \(router), prio \(priority)"
        guard let fourth = u8(offset + 4) else { return truncated("vrrp") }
        if message.version == 2 {
            message.text += ", authtype " + ([0: "none", 1: "simple", 2: "ah"][fourth] ?? "#\(fourth)")
            guard let interval = u8(offset + 5) else { return truncated("vrrp") }
            message.text += ", intvl \(interval)s, length \(length)"
        } else {
            guard let low = u8(offset + 5) else { return truncated("vrrp") }
            message.text += ", intvl \(Int(fourth & 0x0f) << 8 | Int(low))cs, length \(length)"
        }
        if verbosity > 0 { vrrpDetails(&message, at: offset, length: length, authenticationType: fourth) }
    }

    /// What -v adds: a bad checksum, the virtual addresses, version 2's simple password.
    mutating func vrrpDetails(_ message: inout VRRPMessage, at offset: Int, length: Int, authenticationType: UInt8) {
        guard let count = u8(offset + 3) else { return truncated("vrrp") }
        // Checked only when the whole message was captured.
        let checksum: ChecksumCheck? = message.version == 2
            ? bytes(offset, length).map { ChecksumCheck(stored: u16(offset + 6) ?? 0, residual: InternetChecksum.residual([$0[...]])) }
            : transportChecksum(at: offset, length: length, protocolNumber: 112, checksumAt: offset + 6)
        if let checksum, !checksum.isCorrect {
            // The field itself may lie past a message too short to hold it.
            guard let stored = u16(offset + 6) else { return truncated("vrrp") }
            message.text += ", (bad vrrp cksum \(String(stored, radix: 16)))"
        }
        message.text += ", addrs" + (count > 1 ? "(\(count))" : "") + ":"
        let addressLength = pseudoAddresses?.version == 6 ? 16 : 4
        for index in 0..<Int(count) {
            guard let address = bytes(offset + 8 + index * addressLength, addressLength) else { return truncated("vrrp") }
            message.text += (index == 0 ? " " : ",") + host(address: address)
        }
        guard message.version == 2, authenticationType == 1 else { return }
        let start = offset + 8 + Int(count) * addressLength
        message.text += " auth \""
        for index in 0..<8 {
            guard let byte = u8(start + index) else { return truncated("vrrp") }
            if byte == 0 { break }
            message.text += printableCharacter(byte)
        }
        message.text += "\""
    }
}
