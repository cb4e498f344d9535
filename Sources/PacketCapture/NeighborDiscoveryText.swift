/// What tcpdump -v prints of IPv6 neighbor discovery (RFC 4861) after the message's name:
/// a router advertisement's fields, a neighbor advertisement's flags, and the options,
/// one per line (-vv: each followed by its data in hex).
extension PacketDecoding {
    /// The text, and whether the captured bytes ended inside it.
    func neighborDiscoveryDetails(_ type: UInt8, at offset: Int, length: Int) -> (text: String, truncated: Bool) {
        var text = ""
        let optionsAt: Int
        switch type {
        case 133: optionsAt = 8
        case 134:
            guard has(offset, 16), let hopLimit = u8(offset + 4), let flags = u8(offset + 5) else { return (text, true) }
            let names = [(UInt8(0x80), "managed"), (0x40, "other stateful"), (0x20, "home agent"), (0x02, "ipv6 only")].filter { flags & $0.0 != 0 }.map(\.1)
            text += "\n\thop limit \(hopLimit), Flags [\(names.isEmpty ? "none" : names.joined(separator: ", "))], pref \(Self.routePreference(flags))"
            text += ", router lifetime \(u16(offset + 6) ?? 0)s, reachable time \(u32(offset + 8) ?? 0)ms, retrans timer \(u32(offset + 12) ?? 0)ms"
            optionsAt = 16
        case 136:
            guard let flags = u32(offset + 4) else { return (text, true) }
            let names = [(UInt32(0x8000_0000), "router"), (0x4000_0000, "solicited"), (0x2000_0000, "override")].filter { flags & $0.0 != 0 }.map(\.1)
            text += ", Flags [\(names.isEmpty ? "none" : names.joined(separator: ", "))]"
            optionsAt = 24
        case 135: optionsAt = 24
        default: optionsAt = 40
        }
        let options = neighborDiscoveryOptions(at: offset + optionsAt, length: length - optionsAt, message: offset)
        return (text + options.text, options.truncated)
    }

    static func routePreference(_ flags: UInt8) -> String { ["medium", "high", "rsv", "low"][Int(flags & 0x18) >> 3] }

    static func lifetime(_ value: UInt32) -> String { value == .max ? "infinity" : "\(value)s" }

    static let neighborDiscoveryOptionNames: [UInt8: String] = [
        1: "source link-address", 2: "destination link-address", 3: "prefix info", 4: "redirected header", 5: "mtu",
        25: "rdnss", 31: "dnssl", 7: "advertisement interval", 8: "homeagent information", 24: "route info",
    ]

    /// The options from `start`, while they were captured and `length` lasts.
    func neighborDiscoveryOptions(at start: Int, length: Int, message: Int) -> (text: String, truncated: Bool) {
        var text = ""
        var cursor = start
        var left = length
        while cursor < end {
            guard let lengthUnits = u8(cursor + 1) else { return (text, true) }
            guard left > 0 else { break }
            guard let type = u8(cursor), lengthUnits != 0, has(cursor, Int(lengthUnits) * 8) else { return (text, true) }
            let size = Int(lengthUnits) * 8
            text += "\n\t  \(Self.neighborDiscoveryOptionNames[type] ?? "unknown") option (\(type)), length \(size) (\(lengthUnits)): "
            let word = { (at: Int) in self.u32(cursor + at) ?? 0 }
            switch type {
            case 1, 2:
                text += (bytes(cursor + 2, size - 2) ?? []).map { hex($0, width: 2) }.joined(separator: ":")
            case 3:
                guard let prefix = bytes(cursor + 16, 16), let prefixLength = u8(cursor + 2), let flags = u8(cursor + 3) else { return (text, true) }
                let names = [(UInt8(0x80), "onlink"), (0x40, "auto"), (0x20, "router")].filter { flags & $0.0 != 0 }.map(\.1)
                text += "\(host(.v6(IPv6Address(prefix))))/\(prefixLength)\(lengthUnits != 4 ? "badlen" : ""), Flags [\(names.isEmpty ? "none" : names.joined(separator: ", "))]"
                text += ", valid time \(Self.lifetime(word(4))), pref. time \(Self.lifetime(word(8)))"
            case 4:
                // tcpdump dumps from the first option on, whatever this one's place.
                text += hexDump(at: start, count: size)
            case 5:
                text += " \(word(4))" + (lengthUnits != 1 ? "bad option length" : "")
            case 25:
                text += " lifetime \(word(4))s,"
                for index in 0..<(Int(lengthUnits) - 1) / 2 {
                    guard let address = bytes(cursor + 8 + 16 * index, 16) else { return (text, true) }
                    text += " addr: \(IPv6Address(address))"
                }
            case 31:
                text += " lifetime \(word(4))s, domain(s):"
                var name = cursor + 8
                while name < cursor + size, let first = u8(name), first != 0 {
                    let (domain, next) = domainName(at: name, message: start)
                    text += " " + domain
                    guard let next else { return (text, true) }
                    name = next
                }
            case 7:
                text += " \(word(4))ms"
            case 8:
                text += " preference \(u16(cursor + 4) ?? 0), lifetime \(u16(cursor + 6) ?? 0)"
            case 24:
                var prefix = [UInt8](repeating: 0, count: 16)
                switch lengthUnits {
                case 1: break
                case 2, 3:
                    for index in 0..<(lengthUnits == 2 ? 8 : 16) { prefix[index] = u8(cursor + 8 + index) ?? 0 }
                default: return (text, true)
                }
                text += " \(IPv6Address(prefix))/\(u8(cursor + 2) ?? 0), pref=\(Self.routePreference(u8(cursor + 3) ?? 0)), lifetime=\(Self.lifetime(word(4)))"
            default:
                // tcpdump -v dumps an option it does not know, and reads no further.
                guard verbosity > 1 else { return (text + hexDump(at: cursor + 2, count: size - 2, prefix: "\n\t  "), false) }
            }
            // -vv dumps every option's data too.
            if verbosity > 1 { text += hexDump(at: cursor + 2, count: size - 2) }
            cursor += size
            left -= size
        }
        return (text, false)
    }
}
