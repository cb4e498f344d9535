/// ICMP and ICMPv6, each message put in tcpdump's words.
extension PacketDecoding {
    mutating func icmp(at offset: Int, length: Int, fragmented: Bool = false) {
        guard let type = u8(offset), let code = u8(offset + 1), let text = icmpText(type, code, at: offset) else {
            truncated("icmp")
            return
        }
        var message = ICMPMessage(type: type, code: code, text: text, length: length)
        guard verbosity > 0 else { return add(.icmp(message)) }
        if !fragmented, let data = bytes(offset, length) {
            let residual = InternetChecksum.residual([data[...]])
            // tcpdump reads the checksum field only to print a wrong one, and gives up there
            // when the message is too short to hold it.
            guard let stored = u16(offset + 2) ?? (residual == 0 ? 0 : nil) else {
                add(.icmp(message))
                return truncated("icmp")
            }
            message.checksum = ChecksumCheck(stored: stored, residual: residual)
        }
        // tcpdump -v prints the IP packet an error quotes, on a line of its own.
        guard [3, 4, 5, 11, 12].contains(type), tunnels < Self.tunnelLimit else { return add(.icmp(message)) }
        guard let quotedLength = u16(offset + 10).map(Int.init) else {
            message.quoted = PacketSummary(truncatedIn: "icmp")
            return add(.icmp(message))
        }
        var quoted = self
        quoted.summary = PacketSummary()
        quoted.tunnels += 1
        quoted.limit(from: offset + 8, count: quotedLength)
        quoted.ipv4(at: offset + 8, length: quotedLength)
        message.quoted = quoted.summary
        guard [3, 11, 12].contains(type), length > 136 else { return add(.icmp(message)) }
        let extensions = icmpExtensions(at: offset, length: length)
        message.details = extensions.text
        add(.icmp(message))
        if extensions.truncated { truncated("icmp") }
    }

    /// -v: the multi-part extensions (RFC 4884) after the 128 bytes an error quotes, with
    /// MPLS label stacks (RFC 4950); tcpdump looks for them when the message is longer
    /// than that, and takes a right checksum for their presence when the length is 0.
    func icmpExtensions(at offset: Int, length: Int) -> (text: String, truncated: Bool) {
        guard has(offset, 141), let quotedWords = u8(offset + 5), let first = u8(offset + 136) else { return ("", true) }
        let extensionLength = length - 136
        let whole = bytes(offset + 136, extensionLength)
        if quotedWords == 0, let whole, InternetChecksum.residual([whole[...]]) != 0 { return ("", false) }
        var text = "\n\tICMP Multi-Part extension v\(first >> 4)"
        guard first >> 4 == 2 else { return (text + " packet not supported", false) }
        if let whole {
            let correct = InternetChecksum.residual([whole[...]]) == 0
            text += ", checksum 0x\(hex(u16(offset + 138) ?? 0, width: 4)) (\(correct ? "" : "in")correct), length \(extensionLength)"
        }
        var left = extensionLength - 4
        var cursor = offset + 140
        while left > 4 {
            guard let objectLength = u16(cursor).map(Int.init), let objectClass = u8(cursor + 2), let classType = u8(cursor + 3) else { return (text, true) }
            let name = [1: "MPLS Stack Entry", 2: "Interface Identification"][objectClass] ?? "unknown"
            text += "\n\t  \(name) Object (\(objectClass)), Class-Type: \(classType), length \(objectLength)"
            cursor += 4
            left -= 4
            guard objectClass != 0, objectLength >= 4 else { return (text, false) }
            let valueLength = objectLength - 4
            if objectClass == 1 && classType == 1 {
                guard let entry = u32(cursor) else { return (text, true) }
                text += "\n\t    label \(entry >> 12), tc \((entry >> 9) & 7)" + (entry & 0x100 != 0 ? ", [S]" : "") + ", ttl \(entry & 0xff)"
            } else {
                text += hexDump(at: cursor, count: valueLength)
            }
            guard left >= valueLength else { break }
            left -= valueLength
            cursor += valueLength
        }
        return (text, false)
    }

    /// The message text, or nil when the bytes it needs were not captured.
    func icmpText(_ type: UInt8, _ code: UInt8, at offset: Int) -> String? {
        // The IP header an error message quotes starts at offset + 8.
        let quotedDestination = { u32(offset + 24).map { host(.v4(IPv4Address($0))) } }
        switch type {
        case 0, 8:
            guard let id = u16(offset + 4), let sequence = u16(offset + 6) else { return nil }
            return "echo \(type == 8 ? "request" : "reply"), id \(id), seq \(sequence)"
        case 3:
            guard let destination = quotedDestination() else { return nil }
            switch code {
            case 0: return "net \(destination) unreachable"
            case 1: return "host \(destination) unreachable"
            case 2:
                guard let inner = u8(offset + 17) else { return nil }
                return "\(destination) protocol \(inner) unreachable"
            case 3:
                guard let first = u8(offset + 8), let inner = u8(offset + 17),
                      let port = u16(offset + 8 + Int(first & 0x0f) * 4 + 2)
                else { return nil }
                switch inner {
                case 6: return "\(destination) tcp port \(self.port(port, .tcp)) unreachable"
                case 17: return "\(destination) udp port \(self.port(port, .udp)) unreachable"
                default: return "\(destination) protocol \(inner) port \(port) unreachable"
                }
            case 4:
                guard let mtu = u16(offset + 6) else { return nil }
                return mtu != 0 ? "\(destination) unreachable - need to frag (mtu \(mtu))" : "\(destination) unreachable - need to frag"
            case 5: return "\(destination) unreachable - source route failed"
            case 6: return "net \(destination) unreachable - unknown"
            case 7: return "host \(destination) unreachable - unknown"
            case 8: return "\(destination) unreachable - source host isolated"
            case 9: return "net \(destination) unreachable - admin prohibited"
            case 10: return "host \(destination) unreachable - admin prohibited"
            case 11: return "net \(destination) unreachable - tos prohibited"
            case 12: return "host \(destination) unreachable - tos prohibited"
            case 13: return "host \(destination) unreachable - admin prohibited filter"
            case 14: return "host \(destination) unreachable - host precedence violation"
            case 15: return "host \(destination) unreachable - precedence cutoff"
            default: return "\(destination) unreachable - #\(code)"
            }
        case 5:
            guard let destination = quotedDestination(), let gateway = u32(offset + 4).map({ host(.v4(IPv4Address($0))) }) else { return nil }
            switch code {
            case 0: return "redirect \(destination) to net \(gateway)"
            case 1: return "redirect \(destination) to host \(gateway)"
            case 2: return "redirect-tos \(destination) to net \(gateway)"
            case 3: return "redirect-tos \(destination) to host \(gateway)"
            default: return "redirect-#\(code) \(destination) to \(gateway)"
            }
        case 9:
            guard has(offset + 4, 4), let count = u8(offset + 4), let size = u8(offset + 5), let lifetime = u16(offset + 6) else { return nil }
            var text = "router advertisement lifetime " + Self.duration(Int(lifetime)) + " \(count):"
            guard size == 2 else { return text + " [size \(size)]" }
            for index in 0..<Int(count) {
                let entry = offset + 8 + index * 8
                guard has(entry, 8), let address = u32(entry), let preference = u32(entry + 4) else { return nil }
                text += " {\(host(.v4(IPv4Address(address)))) \(preference)}"
            }
            return text
        case 11:
            guard u32(offset + 24) != nil else { return nil }
            switch code {
            case 0: return "time exceeded in-transit"
            case 1: return "ip reassembly time exceeded"
            default: return "time exceeded-#\(code)"
            }
        case 12:
            if code != 0 { return "parameter problem - code \(code)" }
            guard let pointer = u8(offset + 4) else { return nil }
            return "parameter problem - octet \(pointer)"
        case 18:
            guard let mask = u32(offset + 8) else { return nil }
            return "address mask is 0x\(hex(mask, width: 8))"
        case 13:
            guard let id = u16(offset + 4), let sequence = u16(offset + 6) else { return nil }
            return "time stamp query id \(id) seq \(sequence)"
        case 14:
            guard let id = u16(offset + 4), let sequence = u16(offset + 6), u32(offset + 16) != nil,
                  let originate = u32(offset + 8), let receive = u32(offset + 12), let transmit = u32(offset + 16)
            else { return nil }
            return "time stamp reply id \(id) seq \(sequence): org \(Self.timeOfDay(originate)), recv \(Self.timeOfDay(receive)), xmit \(Self.timeOfDay(transmit))"
        default:
            return Self.icmpNames[type] ?? "type-#\(type)"
        }
    }

    static let icmpNames: [UInt8: String] = [
        0: "echo reply", 4: "source quench", 8: "echo request", 10: "router solicitation", 13: "time stamp request",
        14: "time stamp reply", 15: "information request", 16: "information reply", 17: "address mask request",
    ]

    /// `s`, `m:ss` or `h:mm:ss`.
    static func duration(_ seconds: Int) -> String {
        let two = { (value: Int) in value < 10 ? "0\(value)" : "\(value)" }
        if seconds < 60 { return "\(seconds)" }
        if seconds < 3600 { return "\(seconds / 60):\(two(seconds % 60))" }
        return "\(seconds / 3600):\(two(seconds % 3600 / 60)):\(two(seconds % 60))"
    }

    /// Milliseconds since midnight as `hh:mm:ss.mmm`.
    static func timeOfDay(_ milliseconds: UInt32) -> String {
        let two = { (value: UInt32) in value < 10 ? "0\(value)" : "\(value)" }
        let seconds = milliseconds / 1000, fraction = milliseconds % 1000
        let minutes = seconds / 60, hours = minutes / 60
        return "\(two(hours)):\(two(minutes % 60)):\(two(seconds % 60)).\(fraction < 10 ? "00" : fraction < 100 ? "0" : "")\(fraction)"
    }

    mutating func icmpv6(at offset: Int, length: Int, fragmented: Bool = false) {
        guard length > 0 else {
            note("ICMP6, length 0 (invalid)")
            return
        }
        if verbosity > 0 && !fragmented, let check = transportChecksum(at: offset, length: length, protocolNumber: 58, checksumAt: offset + 2) {
            // tcpdump reads the checksum field once the whole message was captured, and
            // gives up when the message is too short to hold it.
            guard u16(offset + 2) != nil else { return truncated("icmp6") }
            note(check.isCorrect ? "[icmp6 sum ok] " : "[bad icmp6 cksum 0x\(hex(check.stored, width: 4)) -> 0x\(hex(check.expected, width: 4))!] ")
        }
        guard let type = u8(offset) else {
            truncated("icmp6")
            return
        }
        let name = Self.icmpv6Names[type] ?? "unknown icmp6 type (\(type))"
        guard let code = u8(offset + 1) else {
            add(.icmpv6(ICMPMessage(type: type, code: 0, text: name, length: length)))
            truncated("icmp6")
            return
        }
        switch icmpv6Details(type, code, at: offset, length: length) {
        case .text(let details):
            var message = ICMPMessage(type: type, code: code, text: name + details, length: length)
            guard verbosity > 0, (133...137).contains(type) else { return add(.icmpv6(message)) }
            let discovery = neighborDiscoveryDetails(type, at: offset, length: length)
            message.details = discovery.text
            add(.icmpv6(message))
            if discovery.truncated { truncated("icmp6") }
        case .truncated(let partial):
            add(.icmpv6(ICMPMessage(type: type, code: code, text: name + partial, length: length)))
            truncated("icmp6")
        case .undecoded(let what):
            add(.icmpv6(ICMPMessage(type: type, code: code, text: name, length: length)))
            undecoded(what)
        }
    }

    enum ICMPv6Details {
        case text(String)
        /// What could be printed before the bytes ran out.
        case truncated(String)
        case undecoded(String)
    }

    func icmpv6Details(_ type: UInt8, _ code: UInt8, at offset: Int, length: Int) -> ICMPv6Details {
        let address = { (at: Int) in bytes(at, 16).map { host(.v6(IPv6Address($0))) } }
        let quoted = offset + 8  // the IPv6 header an error message quotes
        switch type {
        case 1:
            let codeName = Self.unreachableCodes[code] ?? "unknown unreach code (\(code))"
            switch code {
            case 0, 1, 3:
                guard let destination = address(quoted + 24) else { return .truncated(", " + codeName) }
                return .text(", \(codeName) \(destination)")
            case 2:
                guard let destination = address(quoted + 24), let source = address(quoted + 8) else { return .truncated(", " + codeName) }
                return .text(", \(codeName) \(destination), source address \(source)")
            case 4:
                guard let (protocolNumber, port) = quotedUpperLayer(quoted), let destination = address(quoted + 24) else {
                    return .truncated(", " + codeName)
                }
                switch protocolNumber {
                case 6: return .text(", \(codeName), \(destination) tcp port \(self.port(port, .tcp))")
                case 17: return .text(", \(codeName), \(destination) udp port \(self.port(port, .udp))")
                default: return .text(", \(codeName), \(destination) protocol \(protocolNumber) port \(port) unreachable")
                }
            default:
                return .undecoded("ICMPv6 unreachable code \(code)")
            }
        case 2:
            guard let mtu = u32(offset + 4) else { return .truncated("") }
            return .text(", mtu \(mtu)")
        case 3:
            switch code {
            case 0:
                guard let destination = address(quoted + 24) else { return .truncated("") }
                return .text(" for \(destination)")
            case 1: return .text(" (reassembly)")
            default: return .text(", unknown code (\(code))")
            }
        case 4:
            guard has(quoted + 24, 16), let pointer = u32(offset + 4) else { return .truncated("") }
            switch code {
            case 0: return .text(", erroneous - octet \(pointer)")
            case 1: return .text(", next header - octet \(pointer)")
            case 2: return .text(", option - octet \(pointer)")
            case 3: return .text(", incomplete header chain - octet \(pointer)")
            default: return .text(", code-#\(code)")
            }
        case 128, 129:
            guard let id = u16(offset + 4), let sequence = u16(offset + 6) else { return .truncated("") }
            return .text(", id \(id), seq \(sequence)")
        case 130 where length >= 28:
            var text = " v2"
            if verbosity > 0 {
                guard let code = u16(offset + 4) else { return .truncated(text) }
                let delay = code < 32768 ? Int(code) : (Int(code & 0x0fff) | 0x1000) << (Int(code & 0x7000) >> 12 + 3)
                text += " [max resp delay=\(delay)]"
            }
            guard let group = address(offset + 8) else { return .truncated(text) }
            text += " [gaddr \(group)"
            if verbosity > 0 {
                guard let flags = u8(offset + 24), let interval = u8(offset + 25) else { return .truncated(text) }
                if flags & 0x08 != 0 { text += " sflag" }
                if flags & 0x07 != 0 { text += " robustness=\(flags & 0x07)" }
                let queryInterval = interval < 128 ? Int(interval) : (Int(interval & 0x0f) | 0x10) << (Int(interval & 0x70) >> 4 + 3)
                text += " qqi=\(queryInterval)"
            }
            guard let sources = u16(offset + 26) else { return .truncated(text) }
            if sources > 0 {
                if length < 28 + Int(sources) * 16 {
                    text += " [invalid number of sources]"
                } else if !sourceList(&text, at: offset + 28, count: Int(sources), addressLength: 16) {
                    return .truncated(text)
                }
            }
            return .text(text + "]")
        case 130 where length != 24:
            return .text(" unknown-version (len \(length)) ")
        case 130, 131, 132:
            // tcpdump prints these right after the name, without a separator.
            guard has(offset, 24), let delay = u16(offset + 4), let group = address(offset + 8) else { return .text("") }
            return .text("max resp delay: \(delay) addr: \(group)")
        case 133, 134, 141, 142:
            return .text("")
        case 135:
            guard let target = address(offset + 8) else { return .truncated(", who has ") }
            return .text(", who has \(target)")
        case 136:
            guard let target = address(offset + 8) else { return .truncated(", tgt is ") }
            return .text(", tgt is \(target)")
        case 137:
            guard let target = address(offset + 8) else { return .truncated(", ") }
            guard let destination = address(offset + 24) else { return .truncated(", \(target) to ") }
            return .text(", \(target) to \(destination)")
        case 143:
            guard length >= 8 else { return .text(" [invalid len \(length)]") }
            guard let groups = u16(offset + 6) else { return .truncated("") }
            var text = ", \(groups) group record(s)"
            guard verbosity > 0 else { return .text(text) }
            // -v: each group record with its sources.
            var record = offset + 8
            for _ in 0..<groups {
                guard length >= record - offset + 20 else { return .text(text + " [invalid number of groups]") }
                guard let group = address(record + 4), let kind = u8(record), let sources = u16(record + 2).map(Int.init) else { return .truncated(text) }
                text += " [gaddr \(group) " + (Self.groupRecordTypes[kind] ?? " [v2-report-#\(kind)]")
                guard length >= record - offset + 20 + sources * 16 else { return .text(text + " [invalid number of sources \(sources)]") }
                guard sourceList(&text, at: record + 20, count: sources, addressLength: 16) else { return .truncated(text) }
                text += "]"
                record += 20 + sources * 16
            }
            return .text(text)
        case 144, 146:
            guard let id = u16(offset + 4) else { return .truncated("") }
            return .text(", id 0x\(hex(id, width: 4))")
        case 145, 147 where verbosity > 0:
            // -v: a home agent reply's addresses, a mobile prefix advertisement's flags and options.
            guard let id = u16(offset + 4) else { return .truncated("") }
            var text = ", id 0x\(hex(id, width: 4))"
            if type == 145 {
                for at in stride(from: offset + 8, to: offset + length, by: 16) {
                    guard let agent = address(at) else { return .truncated(text) }
                    text += ", \(agent)"
                }
                return .text(text)
            }
            guard let flags = u16(offset + 6) else { return .truncated(text) }
            if flags & 0xc000 != 0 { text += " " }
            if flags & 0x8000 != 0 { text += "M" }
            if flags & 0x4000 != 0 { text += "O" }
            let options = neighborDiscoveryOptions(at: offset + 8, length: length - 8, message: offset)
            return options.truncated ? .truncated(text + options.text) : .text(text + options.text)
        case 145, 147:
            return .text("")
        case 138:
            return routerRenumbering(code, at: offset)
        case 139, 140:
            return nodeInformation(type, code, at: offset, length: length)
        default:
            // A type tcpdump has no name for prints as just that and the length.
            return Self.icmpv6Names[type] == nil ? .text("") : .undecoded("ICMPv6 type \(type)")
        }
    }

    /// The protocol and destination port of the packet an ICMPv6 error quotes, walking its
    /// extension headers as tcpdump does.
    func quotedUpperLayer(_ start: Int) -> (UInt8, UInt16)? {
        guard var next = u8(start + 6) else { return nil }
        var cursor = start
        var advance = 40
        while cursor < end {
            cursor += advance
            switch next {
            case 6, 17:
                guard let port = u16(cursor + 2) else { return nil }
                return (next, port)
            case 0, 60, 43:
                guard let following = u8(cursor), let lengthField = u8(cursor + 1) else { return nil }
                next = following
                advance = (Int(lengthField) + 1) * 8
            case 44:
                guard let following = u8(cursor), let field = u16(cursor + 2), field & 0xfff8 == 0 else { return nil }
                next = following
                advance = 8
            case 51:
                guard let following = u8(cursor), let lengthField = u8(cursor + 1) else { return nil }
                next = following
                advance = (Int(lengthField) + 2) * 4
            default:
                return nil
            }
        }
        return nil
    }

    static let icmpv6Names: [UInt8: String] = [
        1: "destination unreachable", 2: "packet too big", 3: "time exceeded in-transit", 4: "parameter problem",
        128: "echo request", 129: "echo reply", 130: "multicast listener query", 131: "multicast listener report",
        132: "multicast listener done", 133: "router solicitation", 134: "router advertisement",
        135: "neighbor solicitation", 136: "neighbor advertisement", 137: "redirect", 138: "router renumbering",
        141: "inverse neighbor solicitation", 142: "inverse neighbor advertisement", 143: "multicast listener report v2",
        144: "ha discovery request", 145: "ha discovery reply", 146: "mobile router solicitation",
        147: "mobile router advertisement",
        // tcpdump's first names for 139 and 140; "node information ..." follows them.
        139: "who-are-you request", 140: "who-are-you reply",
        200: "mtrace response", 201: "mtrace message", 155: "RPL",
    ]

    static let unreachableCodes: [UInt8: String] = [
        0: "unreachable route", 1: " unreachable prohibited", 2: "beyond scope", 3: "unreachable address", 4: "unreachable port",
    ]
}
