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
    }
}
