/// IPv4 header options in tcpdump -v's words (`options (NOP,NOP,RA)`), and the final
/// destination a source route gives, which TCP's and UDP's checksums cover.
extension PacketDecoding {
    static let ipv4OptionNames: [UInt8: String] = [
        0: "EOL", 1: "NOP", 68: "timestamp", 130: "security", 7: "RR", 137: "SSRR", 131: "LSRR", 148: "RA", 82: "traceroute",
    ]

    /// The options' text, and whether the captured bytes ended inside them.
    func ipv4OptionsText(at start: Int, length: Int) -> (text: String, truncated: Bool) {
        var text = ""
        var cursor = start
        var left = length
        while left > 0 {
            if cursor != start { text += "," }
            guard let code = u8(cursor) else { return (text + " [truncated-option]", true) }
            text += Self.ipv4OptionNames[code] ?? "unknown \(code)"
            var optionLength = 1
            if code > 1 {
                guard let lengthByte = u8(cursor + 1) else { return (text + " [truncated-option]", true) }
                optionLength = Int(lengthByte)
                if optionLength < 2 { return (text + " [bad length \(optionLength)]", false) }
            }
            if optionLength > left { return (text + " [bad length \(optionLength)]", false) }
            guard has(cursor, optionLength) else { return (text + " [truncated-option]", true) }
            switch code {
            case 0:
                return (text, false)
            case 68:
                let detail = timestampOption(at: cursor, length: optionLength)
                text += detail.text
                if detail.truncated { return (text + " [truncated-option]", true) }
            case 7, 131, 137:
                let route = routeOption(at: cursor, length: optionLength)
                text += route.text
                if route.truncated { return (text + " [truncated-option]", true) }
            case 148:
                if optionLength < 4 {
                    text += " [bad length \(optionLength)]"
                } else if let value = u16(cursor + 2), value != 0 {
                    text += " value \(value)"
                }
            default:
                break
            }
            cursor += optionLength
            left -= optionLength
        }
        return (text, false)
    }

    /// A recorded or source route: its addresses, a comma after those already passed; and
    /// whether the captured bytes ended inside them.
    func routeOption(at start: Int, length: Int) -> (text: String, truncated: Bool) {
        guard length >= 3 else { return (" [bad length \(length)]", false) }
        var text = (length + 1) & 3 != 0 ? " [bad length \(length)]" : ""
        let pointerByte = Int(u8(start + 2) ?? 0)
        let pointer = pointerByte - 1
        if pointer < 3 || (pointer + 1) & 3 != 0 || pointer > length + 1 { text += " [bad ptr \(pointerByte)]" }
        var index = 3
        while index < length {
            guard let address = u32(start + index) else { return (text, true) }
            text += " \(host(.v4(IPv4Address(address))))" + (pointer > index ? "," : "")
            index += 4
        }
        return (text, false)
    }

    /// A timestamp option (`TS{TSONLY 1234@ ^ }`), as far as its entries were captured.
    func timestampOption(at start: Int, length: Int) -> (text: String, truncated: Bool) {
        guard length >= 4, let pointerByte = u8(start + 2), let flags = u8(start + 3) else { return ("[bad length \(length)]", false) }
        var text = " TS{"
        let entryLength = flags & 0xf != 0 ? 8 : 4
        if (length - 4) & (entryLength - 1) != 0 { text += "[bad length \(length)]" }
        let pointer = Int(pointerByte) - 1
        if pointer < 4 || (pointer - 4) & (entryLength - 1) != 0 || pointer > length + 1 { text += "[bad ptr \(pointerByte)]" }
        var index = 0
        switch flags & 0xf {
        case 0: text += "TSONLY"
        case 1: text += "TS+ADDR"
        case 3: text += "PRESPEC"
        default: text += "[bad ts type \(flags & 0xf)]"
        }
        if [0, 1, 3].contains(flags & 0xf) {
            index = 4
            while index < length {
                guard let stamp = u32(start + index + entryLength - 4),
                      let address = entryLength == 8 ? u32(start + index).map({ host(.v4(IPv4Address($0))) }) : ""
                else { return (text, true) }
                text += (pointer == index ? " ^ " : " ") + "\(stamp)@\(address)"
                index += entryLength
            }
        }
        text += pointer == index ? " ^ " : ""
        text += flags >> 4 != 0 ? " [\(flags >> 4) hops not recorded]} " : "}"
        return (text, false)
    }

    /// The last address of a loose or strict source route, if the options hold one.
    func ipv4FinalDestination(at start: Int, length: Int) -> [UInt8]? {
        var cursor = start
        var left = length
        while left > 0 {
            guard let code = u8(cursor), code != 0 else { return nil }
            var optionLength = 1
            if code != 1 {
                guard let lengthByte = u8(cursor + 1), lengthByte >= 2 else { return nil }
                optionLength = Int(lengthByte)
            }
            guard optionLength <= left, has(cursor, optionLength) else { return nil }
            if (code == 131 || code == 137) && optionLength >= 7 { return bytes(cursor + optionLength - 4, 4) }
            cursor += optionLength
            left -= optionLength
        }
        return nil
    }
}

extension PacketDecoding {
    /// IPv6 hop-by-hop or destination options in tcpdump -v's words (`(rtalert: 0x0000)
    /// (padn) `), and whether they ended malformed or cut short, where tcpdump stops.
    func ipv6OptionsText(at start: Int, length: Int, hopByHop: Bool, payloadLength: Int) -> (text: String, truncated: Bool) {
        var text = ""
        var index = 0
        var sawJumbo = false
        while index < length {
            guard let type = u8(start + index) else { return (text, true) }
            var optionLength = 1
            if type != 0 {
                guard index + 1 < length, let lengthByte = u8(start + index + 1) else { return (text, true) }
                optionLength = Int(lengthByte) + 2
            }
            guard index + optionLength <= length else { return (text, true) }
            let left = length - index
            let lengthByte = optionLength - 2
            switch type {
            case 0:
                text += "(pad1)"
            case 1:
                text += "(padn)"
            case 5:
                guard left >= 4 else { return (text + "(rtalert: trunc)", true) }
                guard lengthByte == 2 else { return (text + "(rtalert: invalid len \(lengthByte))", true) }
                guard let value = u16(start + index + 2) else { return (text, true) }
                text += "(rtalert: 0x\(hex(value, width: 4))) "
            case 0xc2:
                guard left >= 6 else { return (text + "(jumbo: trunc)", true) }
                guard lengthByte == 4 else { return (text + "(jumbo: invalid len \(lengthByte))", true) }
                guard let jumbo = u32(start + index + 2) else { return (text, true) }
                if sawJumbo {
                    text += "(jumbo: \(jumbo) - already seen) "
                } else if !hopByHop {
                    text += "(jumbo: \(jumbo) - not a hop-by-hop option) "
                } else if payloadLength != 0 {
                    text += "(jumbo: \(jumbo) - payload len != 0) "
                } else {
                    text += jumbo < 65536 ? "(jumbo: \(jumbo) - < 65536) " : "(jumbo: \(jumbo)) "
                }
                sawJumbo = true
            case 0xc9:
                guard left >= 18 else { return (text + "(homeaddr: trunc)", true) }
                guard lengthByte >= 16 else { return (text + "(homeaddr: invalid len \(lengthByte))", true) }
                guard let address = bytes(start + index + 2, 16) else { return (text, true) }
                // Sub-options after the address are not taken apart.
                guard lengthByte == 16 else { return (text + "(homeaddr: \(IPv6Address(address))", true) }
                text += "(homeaddr: \(IPv6Address(address)))"
            default:
                text += "(opt_type 0x\(hex(type, width: 2)): len=\(lengthByte))"
            }
            index += optionLength
        }
        return (text + " ", false)
    }
}
