/// Writes decoded packets as `tcpdump -n` writes them, one line each. It keeps what tcpdump
/// keeps between packets — each TCP connection's first sequence numbers, so later ones
/// print relative to them — so use one printer per capture, in packet order.
public struct PacketPrinter: Sendable {
    /// A connection seen in either direction, with the sequence and acknowledgment numbers
    /// its numbers are printed relative to (tcpdump's `tcp_seq_hash`).
    struct Connection: Hashable, Sendable {
        var lower: [UInt8]
        var upper: [UInt8]
        var ports: UInt32
    }

    var connections: [Connection: (sequence: UInt32, acknowledgment: UInt32)] = [:]

    /// The names of this machine's interfaces by index, which tcpdump prints for Linux
    /// cooked v2 packets (`lo    In  IP ...`, `?` for an index it does not have); nil
    /// prints the index instead (`ifindex 1 In  IP ...`).
    public var interfaceNames: [UInt32: String]?
    /// TCP sequence and acknowledgment numbers as they are in the packet, not relative to
    /// the connection's first ones (tcpdump -S).
    public var absoluteSequenceNumbers: Bool
    /// Each line starts with the link-layer header, and the network layer's name (`IP `,
    /// `IP6 `, `ARP, `) is left out, as tcpdump -e prints them.
    public var linkHeaders: Bool
    /// TCP and UDP end the line with their payload's length, as tcpdump -q prints them
    /// (`tcp 0`, `UDP, length 56`), whatever they carry.
    public var quick: Bool
    /// tcpdump's -v count: from 1 on, the IP headers' fields and checksums print too, and an
    /// IPv4 packet's line breaks after its header, as tcpdump -v prints them. The summary
    /// must come from `PacketDecoder` with the same verbosity.
    public var verbosity: Int
    /// Names for hosts, ports, IP protocols and Ethernet addresses, as tcpdump prints them
    /// without -n; nil prints the numbers, as tcpdump -n.
    public var names: PrintedNames?

    public init(interfaceNames: [UInt32: String]? = nil, absoluteSequenceNumbers: Bool = false, linkHeaders: Bool = false, quick: Bool = false, verbosity: Int = 0, names: PrintedNames? = nil) {
        self.interfaceNames = interfaceNames
        self.absoluteSequenceNumbers = absoluteSequenceNumbers
        self.linkHeaders = linkHeaders
        self.quick = quick
        self.verbosity = verbosity
        self.names = names
    }

    /// The line for `summary`, without a timestamp; `frameLength`, the packet's length on
    /// the wire, goes into the link-layer header with `linkHeaders`.
    public mutating func line(_ summary: PacketSummary, frameLength: Int = 0) -> String {
        line(summary, frameLength: frameLength, quoted: false)
    }

    /// `quoted`: the packet an ICMP error quotes, whose IP header -e prints with no `ip: `.
    private mutating func line(_ summary: PacketSummary, frameLength: Int, quoted: Bool) -> String {
        var text = ""
        var network: NetworkEndpoints?
        var addressesPrinted = false
        for (index, layer) in summary.layers.enumerated() {
            switch layer {
            case .ethernet(let header):
                // A frame tcpdump takes no further prints this header anyway (below).
                if linkHeaders, !summary.layers.contains(where: \.isUndissectedFrame) {
                    text += Self.ethernetHeaderText(header, frameLength: frameLength, quick: quick, names: names)
                }
            case .loopback(let family):
                if linkHeaders { text += Self.loopbackHeaderText(family: family, frameLength: frameLength, quick: quick) }
            case .ciscoHDLC(let address, let type):
                if linkHeaders { text += Self.ciscoHDLCHeaderText(address: address, protocolType: type, frameLength: frameLength) }
            case .vlan(let tag):
                if tag.inCookedHeader {
                    text += "ethertype \(EtherTypes.name(tag.etherType)), "
                } else if linkHeaders {
                    text += Self.vlanTagText(tag, quick: quick)
                }
            case .linuxCooked(let header):
                text += linkHeaders ? cookedHeaderText(header, frameLength: frameLength) : cookedInterfaceText(header)
            case .arp(let message):
                let arpText = Self.arp(message, verbose: verbosity > 0, names: names)
                text += linkHeaders ? String(arpText.dropFirst("ARP, ".count)) : arpText
            case .ipv4(let header):
                addressesPrinted = false
                text += linkHeaders ? (index == 0 && !quoted ? "ip: " : "") : "IP "
                if let missing = header.missingBytes { text += "truncated-ip - \(missing) bytes missing! " }
                if verbosity > 0 { text += Self.ipv4Details(header) }
                network = NetworkEndpoints(source: .v4(header.source), destination: .v4(header.destination),
                                           sourceBytes: header.source.bytes, destinationBytes: header.destination.bytes)
                if header.fragmentOffset != 0 && !header.optionsTruncated {
                    text += addresses(network) + " " + (names?.ipProtocol(header.protocolNumber) ?? "ip-proto-\(header.protocolNumber)")
                    addressesPrinted = true
                } else if !Self.printsOwnAddresses.contains(header.protocolNumber) || header.optionsTruncated {
                    text += addresses(network) + " "
                    addressesPrinted = true
                }
            case .ipv6(let header):
                addressesPrinted = false
                text += linkHeaders ? (index == 0 && !quoted ? "ip: " : "") : "IP6 "
                if let missing = header.missingBytes { text += "truncated-ip6 - \(missing) bytes missing!" }
                if verbosity > 0 { text += Self.ipv6Details(header) }
                network = NetworkEndpoints(source: .v6(header.source), destination: .v6(header.destination),
                                           sourceBytes: header.source.bytes, destinationBytes: header.destination.bytes)
                if !Self.printsOwnAddresses.contains(header.nextHeader) {
                    text += addresses(network) + " "
                    addressesPrinted = true
                }
            case .ipv6Extension(let header):
                switch header.kind {
                case .hopByHop: text += "HBH " + (header.text ?? "")
                case .destinationOptions: text += "DSTOPT " + (header.text ?? "")
                case .routing: text += header.text ?? "RT6 "
                case .fragment:
                    // tcpdump computes the length unsigned: a jumbogram's fragment wraps it.
                    text += "frag (" + (header.identification.map { "0x\(hex($0, width: 8)):" } ?? "") + "\(header.fragmentOffset ?? 0)|\(UInt64(bitPattern: Int64(header.fragmentLength ?? 0))))"
                    if header.fragmentOffset == 0 { text += " " }
                }
            case .tcp(let segment):
                text += endpoints(network, segment.sourcePort, segment.destinationPort, addressesPrinted, .tcp)
                // tcpdump -q prints the payload's length once the 20-byte header is there,
                // however long the header says it is.
                if quick, segment.sourcePort != nil, segment.headerLength >= 20 {
                    return text + "tcp \(UInt32(truncatingIfNeeded: segment.payloadLength))" + (segment.problem ?? "")
                }
                text += tcp(segment, network)
            case .udp(let datagram):
                text += endpoints(network, datagram.sourcePort, datagram.destinationPort, addressesPrinted, .udp)
                // tcpdump ends the addresses of a datagram cut before its ports with a space
                // (a TCP segment's without one).
                if datagram.sourcePort == nil, network != nil, !addressesPrinted { text += " " }
                text += Self.udpChecksumText(datagram)
                if let problem = datagram.problem {
                    text += problem
                } else if quick, datagram.sourcePort != nil {
                    if datagram.lengthExceedsPacket { return text + "UDP, bad length \(datagram.payloadLength) > \(datagram.availableLength)" }
                    return text + "UDP, length \(datagram.payloadLength)"
                } else if datagram.sourcePort != nil, summary.truncatedIn == nil, !summary.layers.dropFirst(index + 1).contains(where: \.isDNSOrRemark) {
                    text += "UDP, length \(datagram.payloadLength)"
                }
            case .sctp(let packet):
                text += endpoints(network, packet.sourcePort, packet.destinationPort, addressesPrinted) + packet.text
            case .dccp(let packet):
                text += endpoints(network, packet.sourcePort, packet.destinationPort, addressesPrinted)
                if quick {
                    let tooLong = packet.dataOffset > packet.length ? " [bad hdr length \(packet.dataOffset) - too long, > \(packet.length)]" : ""
                    return text + "DCCP \(UInt32(truncatingIfNeeded: packet.length - packet.dataOffset))" + tooLong
                }
                text += packet.text
            case .igmp(let message):
                if quick { return text + "igmp" }
                text += message.text
            case .gre(let packet):
                text += linkHeaders ? Self.withProtocol(packet) : packet.text
            case .vrrp(let message):
                text += message.text
            case .eigrp(let message):
                text += message.text
            case .icmp(let message):
                text += "ICMP \(message.text), length \(message.length)"
                if let checksum = message.checksum, !checksum.isCorrect {
                    text += " (wrong icmp cksum \(String(checksum.stored, radix: 16)) (->\(String(checksum.expected, radix: 16)))!)"
                }
                if let quoted = message.quoted { text += "\n\t" + line(quoted, frameLength: 0, quoted: true) + (message.details ?? "") }
            case .icmpv6(let message):
                text += "ICMP6, " + icmpv6Text(message, last: summary.truncatedIn == nil && index + 1 == summary.layers.count)
            case .dns(let message):
                text += Self.dns(message, complete: summary.truncatedIn == nil, questionsPrinted: verbosity > 1)
            case .protocolName(let name):
                if !linkHeaders { text += name }
            case .notice(let remark):
                // After a Cisco HDLC header, tcpdump's words for a protocol it does not know,
                // which -e leaves to the header.
                if linkHeaders, index > 0, case .ciscoHDLC = summary.layers[index - 1] { continue }
                text += remark
            case .undissectedFrame(let header, let frameLength):
                text += Self.ethernetHeaderText(header, frameLength: frameLength, quick: quick, names: names)
            case .undecoded(let name):
                // Not tcpdump's words (it would dissect further); says what stopped us.
                text += text.isEmpty || text.hasSuffix(" ") ? name : " [\(name)]"
            }
        }
        if let protocolName = summary.truncatedIn {
            text += " [|\(protocolName)]"
            // tcpdump closes an option list cut inside an option's data after an earlier option.
            if case .tcp(let segment)? = summary.layers.last, segment.options.last?.complete == false,
               segment.options.contains(where: \.complete) {
                text += ">"
            }
        }
        return text
    }

    /// IP protocols whose line starts with the addresses and ports together (TCP, UDP,
    /// DCCP, SCTP), so IP leaves the addresses to them.
    static let printsOwnAddresses: Set<UInt8> = [6, 17, 33, 132]

    struct NetworkEndpoints {
        var source: IPAddress
        var destination: IPAddress
        var sourceBytes: [UInt8]
        var destinationBytes: [UInt8]
    }

    /// `192.0.2.1.80 > 192.0.2.2.1234: `, just the ports when IP already printed the
    /// addresses, just the addresses when the ports were not captured. The ports of
    /// `transport` (TCP, UDP) print by service name when `names` has one.
    func endpoints(_ network: NetworkEndpoints?, _ sourcePort: UInt16?, _ destinationPort: UInt16?, _ addressesPrinted: Bool,
                   _ transport: ServiceTransport? = nil) -> String {
        guard let sourcePort, let destinationPort else {
            guard let network, !addressesPrinted else { return "" }
            return addresses(network)
        }
        func port(_ number: UInt16) -> String {
            guard let names, let transport else { return "\(number)" }
            return names.port(number, transport)
        }
        guard let network, !addressesPrinted else { return "\(port(sourcePort)) > \(port(destinationPort)): " }
        return "\(host(network.source)).\(port(sourcePort)) > \(host(network.destination)).\(port(destinationPort)): "
    }

    /// `192.0.2.1 > 192.0.2.2:`, by host name where `names` has one.
    func addresses(_ network: NetworkEndpoints?) -> String {
        guard let network else { return "" }
        return "\(host(network.source)) > \(host(network.destination)):"
    }

    func host(_ address: IPAddress) -> String {
        names?.host(address) ?? address.description
    }

    mutating func tcp(_ segment: TCPSegment, _ network: NetworkEndpoints?) -> String {
        guard segment.sourcePort != nil, segment.headerLength != 0 || segment.problem != nil else { return "" }
        if segment.headerLength < 20, let problem = segment.problem { return problem }
        var text = "Flags [\(Self.flagLetters(segment.flags))]"
        var sequence = segment.sequence, acknowledgment = segment.acknowledgment
        var reversed = false
        var base: (sequence: UInt32, acknowledgment: UInt32) = (0, 0)
        if !absoluteSequenceNumbers, segment.flags & 0x10 != 0, let network, let sourcePort = segment.sourcePort, let destinationPort = segment.destinationPort {
            reversed = sourcePort > destinationPort
                || (sourcePort == destinationPort && network.sourceBytes.lexicographicallyPrecedes(network.destinationBytes) == false
                    && network.sourceBytes != network.destinationBytes)
            let key = reversed
                ? Connection(lower: network.destinationBytes, upper: network.sourceBytes, ports: UInt32(destinationPort) << 16 | UInt32(sourcePort))
                : Connection(lower: network.sourceBytes, upper: network.destinationBytes, ports: UInt32(sourcePort) << 16 | UInt32(destinationPort))
            if let known = connections[key], segment.flags & 0x02 == 0 {
                base = reversed ? (known.acknowledgment, known.sequence) : known
                sequence &-= reversed ? known.acknowledgment : known.sequence
                acknowledgment &-= reversed ? known.sequence : known.acknowledgment
                base = known
            } else {
                let entry = reversed
                    ? (sequence: segment.acknowledgment &- 1, acknowledgment: segment.sequence)
                    : (sequence: segment.sequence, acknowledgment: segment.acknowledgment &- 1)
                connections[key] = entry
                base = entry
            }
        }
        if let problem = segment.problem { return text + problem }
        if let checksum = segment.checksum { text += Self.tcpChecksumText(checksum) }
        let payload = segment.payloadLength
        if payload > 0 || segment.flags & 0x07 != 0 || verbosity > 1 {
            text += ", seq \(sequence)"
            if payload > 0 { text += ":\(sequence &+ UInt32(truncatingIfNeeded: payload))" }
        }
        if segment.flags & 0x10 != 0 { text += ", ack \(acknowledgment)" }
        text += ", win \(segment.window)"
        if segment.flags & 0x20 != 0 { text += ", urg \(segment.urgentPointer)" }
        if segment.headerLength > 20 {
            text += ", options ["
            text += segment.options.map { Self.tcpOption($0, reversed: reversed, base: base, flags: segment.flags, names: names) }.joined(separator: ",")
            let printed = segment.options.filter(\.complete).count
            if segment.badOptions { return text + "[bad opt]" + (printed > 0 ? "]" : "") }
            if segment.optionsTruncated { return text }
            text += "]"
        }
        return text + ", length \(payload)" + Self.resetDataText(segment)
    }

    /// An ICMPv6 message after `ICMP6, `: with -v, neighbor discovery's length follows the
    /// name, and types tcpdump knows print no length at the end.
    func icmpv6Text(_ message: ICMPMessage, last: Bool) -> String {
        guard verbosity > 0 else { return message.text + (last ? ", length \(message.length)" : "") }
        let name = PacketDecoding.icmpv6Names[message.type] ?? ""
        var text = message.text
        if Self.icmpv6LengthAfterName.contains(message.type), text.hasPrefix(name) {
            text = name + ", length \(message.length)" + text.dropFirst(name.count)
        } else if last && !Self.icmpv6TypesDecoded.contains(message.type) {
            text += ", length \(message.length)"
        }
        return text + (message.details ?? "")
    }

    /// Router and neighbor solicitations and advertisements, redirects, home agent replies,
    /// mobile prefix advertisements.
    static let icmpv6LengthAfterName: Set<UInt8> = [133, 134, 135, 136, 137, 145, 147]
    /// The types tcpdump's ICMPv6 printer has a case for; others print their length with -v.
    static let icmpv6TypesDecoded: Set<UInt8> = Set((1...4).map(UInt8.init) + (128...147).map(UInt8.init) + [155])

    static let tcpOptionNames: [UInt8: String] = [
        0: "eol", 1: "nop", 2: "mss", 3: "wscale", 4: "sackOK", 5: "sack", 6: "echo", 7: "echoreply", 8: "TS", 11: "cc",
        12: "ccnew", 13: "", 19: "md5", 20: "scps", 28: "uto", 29: "tcp-ao", 30: "mptcp", 34: "tfo", 254: "exp",
    ]

    static func flagLetters(_ flags: UInt8) -> String {
        let letters = zip([UInt8(0x01), 0x02, 0x04, 0x08, 0x10, 0x20, 0x40, 0x80], ["F", "S", "R", "P", ".", "U", "E", "W"])
            .filter { flags & $0.0 != 0 }.map(\.1).joined()
        return letters.isEmpty ? "none" : letters
    }

    static func tcpOption(_ option: TCPOption, reversed: Bool, base: (sequence: UInt32, acknowledgment: UInt32), flags: UInt8,
                          names: PrintedNames? = nil) -> String {
        if option.kind == 29 {
            // tcp-ao: key IDs, then the MAC, as far as the bytes go.
            let data = option.data
            var text = "tcp-ao"
            if option.complete && option.length < 4 { return text + " (invalid)" }
            if data.count >= 1 { text += " keyid \(data[0])" }
            if data.count >= 2 { text += " rnextkeyid \(data[1])" }
            if data.count > 2 || (!option.complete && option.length > 4) {
                text += " mac 0x" + data.dropFirst(2).map { hex($0, width: 2) }.joined()
            }
            return text
        }
        if option.kind == 30, option.data.count == option.length - 2 {
            // Whole, but tcpdump may still find it malformed (and print [bad opt] after it).
            return "mptcp" + option.mptcpText(flags: flags, names: names).text
        }
        guard option.complete else {
            // Cut short: tcpdump got as far as the name, and the bytes of an unknown option.
            let name = tcpOptionNames[option.kind] ?? "unknown-\(option.kind)"
            return name + (tcpOptionNames[option.kind] == nil && option.length > 2 ? " 0x" + option.data.map { hex($0, width: 2) }.joined() : "")
        }
        let data = option.data
        let u16 = { (at: Int) in UInt16(data[at]) << 8 | UInt16(data[at + 1]) }
        let u32 = { (at: Int) in UInt32(u16(at)) << 16 | UInt32(u16(at + 2)) }
        var text: String
        switch option.kind {
        case 0: text = "eol"
        case 1: text = "nop"
        case 2: text = "mss \(u16(0))"
        case 3: text = "wscale \(data[0])"
        case 4: text = "sackOK"
        case 5:
            if data.count % 8 != 0 {
                text = "sack invalid sack"
            } else {
                text = "sack \(data.count / 8) "
                for block in stride(from: 0, to: data.count, by: 8) {
                    let offset = reversed ? base.sequence : base.acknowledgment
                    text += "{\(u32(block) &- offset):\(u32(block + 4) &- offset)}"
                }
            }
        case 6: text = "echo \(u32(0))"
        case 7: text = "echoreply \(u32(0))"
        case 8: text = "TS val \(u32(0)) ecr \(u32(4))"
        case 11: text = "cc \(u32(0))"
        case 12: text = "ccnew \(u32(0))"
        case 13: text = " \(u32(0))"
        case 19: text = "md5 " + data.map { hex($0, width: 2) }.joined()
        case 20: text = "scps cap \(hex(data[0], width: 2)) id \(data[1])"
        case 28:
            let value = u16(0)
            text = "uto 0x\(String(value, radix: 16)) \(value & 1 != 0 ? Int(value >> 1) * 60 : Int(value >> 1))"
        case 34: text = "tfo " + TCPOption.fastOpenText(data[...])
        case 254 where data.count >= 2 && u16(0) == 0xf989:
            text = "exp-tfo" + TCPOption.fastOpenText(data.dropFirst(2))
        case 254 where data.count >= 2:
            text = "exp-" + hex(u16(0), width: 4)
        default:
            text = "unknown-\(option.kind)" + (data.isEmpty ? "" : " 0x" + data.map { hex($0, width: 2) }.joined())
        }
        let used = option.kind <= 1 ? 1 : data.count + 2
        if used != option.length { text += "[len \(option.length)]" }
        return text
    }

    static let arpHardwareNames: [UInt16: String] = [
        1: "Ethernet", 6: "TokenRing", 7: "ArcNet", 15: "FrameRelay", 23: "Strip", 24: "IEEE 1394", 19: "ATM", 32: "InfiniBand",
    ]
    static let arpOperationNames: [UInt16: String] = [
        1: "Request", 2: "Reply", 3: "Reverse Request", 4: "Reverse Reply", 8: "Inverse Request", 9: "Inverse Reply", 10: "NACK Reply",
    ]

    /// Whether tcpdump reads the operation (addresses it can read, or -v) and finds none it
    /// prints: then it dumps the message from its header on in hex.
    static func arpDumpsTheRest(_ message: ARPMessage, verbose: Bool) -> Bool {
        (arpReadable(message) || verbose) && ![1, 2, 3, 4, 8, 9].contains(message.operation)
    }

    /// Whether tcpdump reads an ARP message's addresses (IPv4 ones, and a hardware length).
    static func arpReadable(_ message: ARPMessage) -> Bool {
        [0x0800, 0x1000].contains(message.protocolType) && message.protocolLength == 4 && !message.senderHardware.bytes.isEmpty
    }

    /// With `verbose` (-v), the types and lengths always print, and the operation after them.
    static func arp(_ message: ARPMessage, verbose: Bool = false, names: PrintedNames? = nil) -> String {
        var text = "ARP, "
        let hardwareLength = message.senderHardware.bytes.count
        let readable = [0x0800, 0x1000].contains(message.protocolType) && message.protocolLength == 4
        // Addresses tcpdump cannot read: the types and lengths only (-v goes on).
        if !arpReadable(message) || verbose {
            text += (arpHardwareNames[message.hardwareType] ?? "Unknown Hardware (\(message.hardwareType))") + " (len \(hardwareLength)), "
            text += (EtherTypes.names[message.protocolType] ?? "Unknown Protocol (0x\(hex(message.protocolType, width: 4)))")
            text += " (len \(message.protocolLength))"
            guard verbose else { return text + ", length \(message.length)" }
            text += ", "
        }
        text += (arpOperationNames[message.operation] ?? "Unknown (\(message.operation))") + " "
        let sender = linkAddress(message.senderHardware, names), target = linkAddress(message.targetHardware, names)
        let wrong = [0x0800, 0x1000].contains(message.protocolType) ? "<wrong len>" : "<wrong proto type>"
        let senderAddress = readable ? names?.host(.v4(message.senderAddress)) ?? message.senderAddress.description : wrong
        let targetAddress = readable ? names?.host(.v4(message.targetAddress)) ?? message.targetAddress.description : wrong
        switch message.operation {
        case 1:
            text += "who-has \(targetAddress)"
            if message.targetHardware.bytes.contains(where: { $0 != 0 }) { text += " (\(target))" }
            text += " tell \(senderAddress)"
        case 2: text += "\(senderAddress) is-at \(sender)"
        case 3, 8: text += "who-is \(target) tell \(sender)"
        case 4: text += "\(target) at \(targetAddress)"
        case 9: text += "\(sender) at \(senderAddress)"
        default: return text  // tcpdump dumps the rest in hex (`arpDumpsTheRest`)
        }
        return text + ", length \(message.length)"
    }

    /// A hardware address as tcpdump writes one of any length.
    static func linkAddress(_ address: MACAddress, _ names: PrintedNames? = nil) -> String {
        address.bytes.isEmpty ? "<empty>" : names?.ethernet(address) ?? address.description
    }

    /// `questionsPrinted`: -vv, where a response's questions print too.
    static func dns(_ message: DNSMessage, complete: Bool, questionsPrinted: Bool) -> String {
        var text = message.overTCP ? " " : ""
        let flags = message.flags
        text += "\(message.id)" + opcodeNames[message.opcode]
        if message.isResponse {
            text += responseCodeName(message.responseCode)
            text += (flags & 0x0400 != 0 ? "*" : "") + (flags & 0x0080 != 0 ? "" : "-")
            text += (flags & 0x0200 != 0 ? "|" : "") + (flags & 0x0020 != 0 ? "$" : "")
            if message.questionCount != 1 { text += " [\(message.questionCount)q]" }
            if !questionsPrinted {
                text += String(repeating: ",", count: max(0, message.questionsSkipped - 1))
            } else {
                // Each question after ` q:`, as far as it was read.
                text += (0..<message.questionsSkipped).map { index in
                    " q:" + (index < message.questions.count ? questionText(message.questions[index], multicast: message.multicast) : "")
                }.joined(separator: ",")
            }
            if message.questionsComplete {
                text += " \(message.answerCount)/\(message.authorityCount)/\(message.additionalCount)"
            }
            text += recordsText(message.answers, multicast: message.multicast)
        } else {
            text += (flags & 0x0100 != 0 ? "+" : "") + (flags & 0x0010 != 0 ? "%" : "")
            if flags & 0x6cf != 0 { text += " [b2&3=0x\(String(flags, radix: 16))]" }
            if message.opcode == 1 {
                if message.questionCount != 0 { text += " [\(message.questionCount)q]" }
                if message.answerCount != 1 { text += " [\(message.answerCount)a]" }
            } else {
                if message.answerCount != 0 { text += " [\(message.answerCount)a]" }
                if message.questionCount != 1 { text += " [\(message.questionCount)q]" }
            }
            if message.authorityCount != 0 { text += " [\(message.authorityCount)n]" }
            if message.additionalCount != 0 { text += " [\(message.additionalCount)au]" }
            for question in message.questions { text += questionText(question, multicast: message.multicast) }
            text += recordsText(message.answers, multicast: message.multicast)
        }
        if !message.authorities.isEmpty { text += " ns:" + recordsText(message.authorities, multicast: message.multicast) }
        if !message.additionals.isEmpty { text += " ar:" + recordsText(message.additionals, multicast: message.multicast) }
        if complete { text += " (\(message.length))" }
        return text
    }

    /// ` A? example.com.`, with the class unless it is IN.
    static func questionText(_ question: DNSQuestion, multicast: Bool) -> String {
        var text = " " + typeName(question.type)
        let recordClass = multicast ? question.recordClass & 0x7fff : question.recordClass
        if recordClass != 1 { text += " " + className(recordClass) }
        if multicast { text += question.recordClass & 0x8000 != 0 ? " (QU)" : " (QM)" }
        return text + "? " + question.name
    }

    /// Resource records joined by commas: ` example.com. A 192.0.2.1` (-v: with the owner
    /// name; -vvv: the time to live in brackets).
    static func recordsText(_ records: [DNSRecord], multicast: Bool) -> String {
        records.map { record in
            var part = record.name.map { " " + $0 } ?? ""
            guard let type = record.type else { return part }
            let recordClass = multicast ? record.recordClass & 0x7fff : record.recordClass
            if recordClass != 1 && record.type != 41 { part += " " + className(recordClass) }
            if multicast && record.recordClass & 0x8000 != 0 { part += " (Cache flush)" }
            if let timeToLive = record.timeToLive { part += " [" + PacketDecoding.relativeTime(Int(timeToLive)) + "]" }
            part += " " + typeName(type)
            if !record.data.isEmpty { part += " " + record.data }
            return part
        }.joined(separator: ",")
    }

    static let opcodeNames = [
        "", " inv_q", " stat", " op3", " notify", " update", " op6", " op7",
        " op8", " updateA", " updateD", " updateDA", " updateM", " updateMA", " zoneInit", " zoneRef",
    ]

    static let responseCodeNames = [
        "", " FormErr", " ServFail", " NXDomain", " NotImp", " Refused", " YXDomain", " YXRRSet",
        " NXRRSet", " NotAuth", " NotZone", " Resp11", " Resp12", " Resp13", " Resp14", " NoChange",
        " BadVers", "Resp17", " Resp18", " Resp19", " Resp20", "Resp21", " Resp22", " BadCookie",
    ]

    static func responseCodeName(_ code: Int) -> String {
        code < responseCodeNames.count ? responseCodeNames[code] : " Resp\(code & 0xfff)"
    }

    static func typeName(_ type: UInt16) -> String { dnsTypeNames[type] ?? "Type\(type)" }

    static func className(_ recordClass: UInt16) -> String {
        [1: "IN", 3: "CHAOS", 4: "HS", 255: "ANY"][recordClass] ?? "(Class \(recordClass))"
    }

    static let dnsTypeNames: [UInt16: String] = [
        1: "A", 2: "NS", 3: "MD", 4: "MF", 5: "CNAME", 6: "SOA", 7: "MB", 8: "MG", 9: "MR", 10: "NULL", 11: "WKS",
        12: "PTR", 13: "HINFO", 14: "MINFO", 15: "MX", 16: "TXT", 17: "RP", 18: "AFSDB", 19: "X25", 20: "ISDN",
        21: "RT", 22: "NSAP", 23: "NSAP_PTR", 24: "SIG", 25: "KEY", 26: "PX", 27: "GPOS", 28: "AAAA", 29: "LOC",
        30: "NXT", 31: "EID", 32: "NIMLOC", 33: "SRV", 34: "ATMA", 35: "NAPTR", 36: "KX", 37: "CERT", 38: "A6",
        39: "DNAME", 40: "SINK", 41: "OPT", 42: "APL", 43: "DS", 44: "SSHFP", 45: "IPSECKEY", 46: "RRSIG",
        47: "NSEC", 48: "DNSKEY", 99: "SPF", 100: "UINFO", 101: "UID", 102: "GID", 103: "UNSPEC", 104: "UNSPECA",
        249: "TKEY", 250: "TSIG", 251: "IXFR", 252: "AXFR", 253: "MAILB", 254: "MAILA", 255: "ANY", 256: "URI",
    ]


    /// `text` left-aligned in `width` columns, as printf's `%-*s`.
    func padded(_ text: String, _ width: Int) -> String {
        text + String(repeating: " ", count: max(0, width - text.count))
    }

    static let packetTypeNames: [UInt16: String] = [0: "In", 1: "B", 2: "M", 3: "P", 4: "Out"]
}

extension PacketLayer {
    var isDNSOrRemark: Bool {
        switch self {
        case .dns, .notice: true
        default: false
        }
    }

    var isUndissectedFrame: Bool {
        if case .undissectedFrame = self { true } else { false }
    }
}

extension IPv4Address {
    var bytes: [UInt8] { [UInt8(value >> 24), UInt8(value >> 16 & 0xff), UInt8(value >> 8 & 0xff), UInt8(value & 0xff)] }
}
