/// TCP and UDP, and which application protocol their ports hand the payload to.
extension PacketDecoding {
    mutating func tcp(at offset: Int, length: Int, fragmented: Bool) {
        guard let sourcePort = u16(offset), let destinationPort = u16(offset + 2) else {
            add(.tcp(TCPSegment(ports: nil)))
            truncated("tcp")
            return
        }
        var segment = TCPSegment(ports: (sourcePort, destinationPort))
        guard has(offset, 20), let dataOffset = u8(offset + 12) else {
            add(.tcp(segment))
            truncated("tcp")
            return
        }
        let headerLength = Int(dataOffset >> 4) * 4
        segment.headerLength = headerLength
        segment.sequence = u32(offset + 4) ?? 0
        segment.acknowledgment = u32(offset + 8) ?? 0
        segment.flags = u8(offset + 13) ?? 0
        segment.window = u16(offset + 14) ?? 0
        segment.urgentPointer = u16(offset + 18) ?? 0
        segment.payloadLength = length - headerLength
        guard headerLength >= 20 else {
            segment.problem = " tcp \(UInt32(truncatingIfNeeded: length - headerLength)) [bad hdr length \(headerLength) - too short, < 20]"
            add(.tcp(segment))
            return
        }
        guard headerLength <= length else {
            segment.problem = " [bad hdr length \(headerLength) - too long, > \(length)]"
            add(.tcp(segment))
            return
        }
        if verbosity > 0 && !fragmented && verifiesChecksums {
            segment.checksum = transportChecksum(at: offset, length: length, protocolNumber: 6, checksumAt: offset + 16)
        }
        if headerLength > 20 {
            (segment.options, segment.badOptions, segment.optionsTruncated) = tcpOptions(at: offset + 20, length: headerLength - 20, flags: segment.flags)
        }
        let payload = length - headerLength
        if verbosity > 0, segment.flags & 0x04 != 0, payload > 0, !segment.badOptions, !segment.optionsTruncated, has(offset, headerLength) {
            // tcpdump prints a reset's payload (up to 30 bytes) as text, and nothing above it.
            let shown = min(payload, 30)
            segment.resetData = bytes(offset + headerLength, min(shown, end - offset - headerLength)) ?? []
            segment.resetDataComplete = has(offset + headerLength, payload)
            add(.tcp(segment))
            return
        }
        add(.tcp(segment))
        if segment.badOptions { return }
        if segment.optionsTruncated {
            truncated("tcp")
            return
        }
        guard payload > 0 else { return }
        guard has(offset, headerLength) else {
            note(" [remaining caplen(\(max(end - offset, 0))) < header length(\(headerLength))]")
            truncated("tcp")
            return
        }
        if sourcePort == 53 || destinationPort == 53 {
            dns(at: offset + headerLength, length: payload, overTCP: true)
        } else if let name = Self.tcpApplication(sourcePort, destinationPort) {
            if name == "SSH" {
                sshVersion(at: offset + headerLength, length: payload)
            } else {
                undecoded(name)
            }
        }
    }

    /// The version line an SSH connection starts with (`SSH-2.0-...`), which is all tcpdump
    /// prints of SSH: nothing for other payload, or a line not ended in this packet.
    mutating func sshVersion(at offset: Int, length: Int) {
        for (index, expected) in "SSH-".utf8.enumerated() {
            guard let byte = u8(offset + index) else { return truncated("ssh") }
            guard byte == expected else { return }
        }
        var index = 4
        while index < length {
            guard let byte = u8(offset + index) else { return truncated("ssh") }
            if byte == 0x0a { break }
            if byte == 0x0d {
                guard index + 1 < length else { return }
                guard let next = u8(offset + index + 1) else { return truncated("ssh") }
                guard next == 0x0a else { return }
                break
            }
            guard (0x20...0x7e).contains(byte) else { return }
            index += 1
        }
        guard index < length, let line = bytes(offset, index) else { return }
        note(": SSH: " + String(decoding: line, as: UTF8.self))
    }

    /// The options, whether they were malformed (`[bad opt]`), and whether they ran past the
    /// captured bytes.
    func tcpOptions(at start: Int, length: Int, flags: UInt8) -> ([TCPOption], bad: Bool, truncated: Bool) {
        var options: [TCPOption] = []
        var cursor = start
        var left = length
        while left > 0 {
            guard let kind = u8(cursor) else { return (options, false, true) }
            if kind == 0 || kind == 1 {
                options.append(TCPOption(kind: kind, length: 1, data: [], complete: true))
                cursor += 1
                left -= 1
                if kind == 0 { break }
                continue
            }
            guard let lengthByte = u8(cursor + 1) else { return (options, false, true) }
            let optionLength = Int(lengthByte)
            guard optionLength >= 2, optionLength <= left else { return (options, true, false) }
            left -= 2
            let expected = Self.tcpOptionDataLength[kind] ?? optionLength - 2
            guard expected <= left else {
                options.append(TCPOption(kind: kind, length: optionLength, data: [], complete: false))
                return (options, true, false)
            }
            guard let data = bytes(cursor + 2, expected) else {
                // tcpdump prints the bytes of a variable option up to the end of the capture.
                let available = Self.tcpOptionDataLength[kind] == nil || kind == 29 ? (bytes(cursor + 2, max(0, end - cursor - 2)) ?? []) : []
                options.append(TCPOption(kind: kind, length: optionLength, data: available, complete: false))
                return (options, false, true)
            }
            let option = TCPOption(kind: kind, length: optionLength, data: data, complete: true)
            if kind == 30, !option.mptcpText(flags: flags).valid {
                // tcpdump prints what it read of it, then [bad opt]; kept as not complete.
                options.append(TCPOption(kind: kind, length: optionLength, data: data, complete: false))
                return (options, true, false)
            }
            options.append(option)
            cursor += 2 + expected
            left -= expected
        }
        return (options, false, false)
    }

    /// Data bytes tcpdump reads for options of a fixed size, whatever their length byte says.
    static let tcpOptionDataLength: [UInt8: Int] = [2: 2, 4: 0, 3: 1, 6: 4, 7: 4, 8: 8, 11: 4, 12: 4, 13: 4, 19: 16, 20: 2, 28: 2]

    mutating func udp(at offset: Int, length: Int, fragmented: Bool) {
        guard let sourcePort = u16(offset), let destinationPort = u16(offset + 2) else {
            add(.udp(UDPDatagram(sourcePort: nil)))
            truncated("udp")
            return
        }
        var datagram = UDPDatagram(sourcePort: sourcePort, destinationPort: destinationPort)
        guard length >= 8 else {
            datagram.problem = "truncated-udp \(length)"
            add(.udp(datagram))
            return
        }
        guard var udpLength = u16(offset + 4).map(Int.init) else {
            add(.udp(datagram))
            truncated("udp")
            return
        }
        if udpLength == 0 && length > 65535 { udpLength = length }
        guard udpLength >= 8 else {
            datagram.problem = "truncated-udplength \(udpLength)"
            add(.udp(datagram))
            return
        }
        udpLength -= 8
        let available = min(length - 8, udpLength)
        datagram.payloadLength = udpLength
        datagram.availableLength = available
        guard offset + 8 <= end else {
            add(.udp(datagram))
            truncated("udp")
            return
        }
        if verbosity > 0 && !fragmented && verifiesChecksums, let pseudoAddresses {
            if pseudoAddresses.version == 6 {
                datagram.checksum = transportChecksum(at: offset, length: available + 8, protocolNumber: 17, checksumAt: offset + 6)
            } else if verbosity > 1 {
                if u16(offset + 6) == 0 {
                    datagram.checksumAbsent = true
                } else {
                    datagram.checksum = transportChecksum(at: offset, length: available + 8, protocolNumber: 17, checksumAt: offset + 6)
                }
            }
        }
        let isDNS = sourcePort == 53 || destinationPort == 53
        let isMulticastDNS = !isDNS && (sourcePort == 5353 || destinationPort == 5353)
        datagram.lengthExceedsPacket = udpLength > available && !fragmented
        if datagram.lengthExceedsPacket && !isDNS && !isMulticastDNS {
            datagram.problem = "UDP, bad length \(udpLength) > \(available)"
        }
        add(.udp(datagram))
        if isDNS || isMulticastDNS {
            dns(at: offset + 8, length: available, overTCP: false, multicast: isMulticastDNS)
        } else if let name = udpApplication(sourcePort, destinationPort, payload: offset + 8) {
            if name == "HSRP" {
                hsrp(at: offset + 8, length: available)
            } else if name == "BFD", let kind = Self.bfdPorts[destinationPort] {
                bfd(at: offset + 8, length: available, kind: kind)
            } else {
                undecoded(name)
            }
        }
    }

    /// Ports tcpdump hands to a dissector of its own for TCP payload (from its tcp.h). Its
    /// NetBIOS and SMB printers are left out of a default build (configure's --enable-smb),
    /// so those ports print as plain TCP and UDP.
    static func tcpApplication(_ source: UInt16, _ destination: UInt16) -> String? {
        for port in [source, destination] {
            if let name = tcpApplicationPorts[port] { return name }
        }
        return nil
    }

    static let tcpApplicationPorts: [UInt16: String] = [
        21: "FTP", 22: "SSH", 23: "Telnet", 25: "SMTP", 43: "WHOIS", 80: "HTTP", 179: "BGP",
        323: "RPKI-RTR", 554: "RTSP", 639: "MSDP", 646: "LDP", 1723: "PPTP", 2049: "NFS",
        6379: "RESP", 6633: "OpenFlow", 6653: "OpenFlow", 8080: "HTTP", 8554: "RTSP", 10288: "BEEP",
    ]

    /// Ports tcpdump hands to a dissector of its own for UDP payload (from its udp.h and
    /// udp_print's order), AppleTalk's DDP ports included.
    func udpApplication(_ source: UInt16, _ destination: UInt16, payload: Int) -> String? {
        for port in [source, destination] {
            if let name = Self.udpApplicationPorts[port] { return name }
        }
        if (7000...7009).contains(source) || (7000...7009).contains(destination) { return "AFS RX" }
        if let name = Self.udpDestinationPorts[destination] { return name }
        // In tcpdump's order: Broadcom's LI shim by its source port before BFD.
        if source == 49152 { return "Broadcom LI" }
        if Self.bfdPorts[destination] != nil || destination == 3785 { return "BFD" }
        let atalk: (UInt16) -> Bool = { (200..<328).contains($0) || (768..<896).contains($0) || (16512..<16640).contains($0) }
        if u8(payload + 2) == 2 && (atalk(source) || atalk(destination)) { return "AppleTalk" }
        return nil
    }

    static let udpApplicationPorts: [UInt16: String] = [
        525: "timed", 69: "TFTP", 67: "BOOTP", 68: "BOOTP", 520: "RIP", 654: "AODV", 500: "ISAKMP",
        4500: "ISAKMP", 7500: "ISAKMP", 8500: "ISAKMP", 161: "SNMP", 162: "SNMP", 123: "NTP", 88: "Kerberos",
        750: "Kerberos", 1701: "L2TP", 2103: "Zephyr", 2104: "Zephyr",
        521: "RIPng", 546: "DHCPv6", 547: "DHCPv6", 5359: "AHCP", 6696: "Babel", 6697: "Babel", 8231: "HNCP",
        496: "Cisco AutoRP", 1645: "RADIUS", 1812: "RADIUS", 1646: "RADIUS", 1813: "RADIUS", 1700: "RADIUS",
        3799: "RADIUS", 921: "LWRES", 646: "LDP", 698: "OLSR", 3503: "LSP ping", 701: "LMP", 1589: "VQP",
        6343: "sFlow", 12222: "LWAPP", 12223: "LWAPP", 5060: "SIP", 514: "syslog", 8472: "OTV", 4789: "VXLAN", 6081: "Geneve",
        4342: "LISP", 4790: "VXLAN-GPE", 17754: "ZEP", 6635: "MPLS", 319: "PTP", 320: "PTP", 30490: "SOME/IP",
        2049: "NFS",
    ]

    static let udpDestinationPorts: [UInt16: String] = [
        3456: "VAT", 4567: "WB", 1985: "HSRP",
    ]
}

extension PacketDecoding {
    /// HSRP (RFC 2281) as tcpdump prints it: version, operation, length, state, group and
    /// virtual address (version 0; later ones by their number only); with -v the timers,
    /// priority and password too.
    mutating func hsrp(at offset: Int, length: Int) {
        var text = "HSRPv"
        defer { note(text) }
        guard let version = u8(offset) else { return truncated("hsrp") }
        text += "\(version)"
        guard version == 0 else { return }
        guard let operation = u8(offset + 1) else { return truncated("hsrp") }
        text += "-" + (operation < 3 ? ["hello", "coup", "resign"][Int(operation)] : "unknown (\(operation))") + " \(length): "
        guard let state = u8(offset + 2) else { return truncated("hsrp") }
        let states: [UInt8: String] = [0: "initial", 1: "learn", 2: "listen", 4: "speak", 8: "standby", 16: "active"]
        text += "state=\(states[state] ?? "Unknown (\(state))") "
        guard let group = u8(offset + 6) else { return truncated("hsrp") }
        text += "group=\(group) "
        guard let reserved = u8(offset + 7) else { return truncated("hsrp") }
        if reserved != 0 { text += "[reserved=\(reserved)!] " }
        guard let address = u32(offset + 16) else { return truncated("hsrp") }
        text += "addr=\(host(.v4(IPv4Address(address))))"
        guard verbosity > 0 else { return }
        guard let hello = u8(offset + 3) else { return truncated("hsrp") }
        text += " hellotime=" + Self.relativeTime(Int(hello))
        guard let hold = u8(offset + 4) else { return truncated("hsrp") }
        text += " holdtime=" + Self.relativeTime(Int(hold))
        guard let priority = u8(offset + 5) else { return truncated("hsrp") }
        text += " priority=\(priority) auth=\""
        for index in 0..<8 {
            guard let byte = u8(offset + 8 + index) else { return truncated("hsrp") }
            if byte == 0 { break }
            text += printableCharacter(byte)
        }
        text += "\""
    }
}

extension PacketDecoding {
    /// The BFD control ports (RFC 5881, 5883, 7130) by tcpdump's names for them.
    static let bfdPorts: [UInt16: String] = [3784: "Control", 4784: "Multihop", 6784: "Lag"]

    /// A BFD version 1 control packet as tcpdump prints it without -v: the kind of session,
    /// the state, the flags and the length. Version 0 stays undecoded.
    mutating func bfd(at offset: Int, length: Int, kind: String) {
        // tcpdump wants the whole 24-byte header captured before it prints anything.
        guard has(offset, 24), let first = u8(offset), let flags = u8(offset + 1) else { return truncated("bfd") }
        guard first >> 5 == 1 else { return undecoded("BFDv\(first >> 5)") }
        let states = ["AdminDown", "Down", "Init", "Up"]
        let names = zip([UInt8(0x20), 0x10, 0x08, 0x04, 0x02, 0x01], ["Poll", "Final", "Control Plane Independent", "Authentication Present", "Demand", "Multipoint"])
            .filter { flags & $0.0 != 0 }.map(\.1)
        let flagText = names.isEmpty ? "none" : names.joined(separator: ", ")
        guard verbosity > 0 else {
            return note("BFDv1, \(kind), State \(states[Int(flags >> 6)]), Flags: [\(flagText)], length: \(length)")
        }
        let diagnostic = first & 0x1f
        let reader = self.reader
        let field = { (at: Int) in (try? reader.u32(at: offset + at)) ?? 0 }
        let multiplier = UInt32(u8(offset + 2) ?? 0)
        var text = "BFDv1, length: \(length)\n\t\(kind), State \(states[Int(flags >> 6)]), Flags: [\(flagText)], "
        text += "Diagnostic: \(Self.bfdDiagnostics[Int(diagnostic)] ?? "unknown") (0x\(hex(diagnostic, width: 2)))"
        text += "\n\tDetection Timer Multiplier: \(multiplier) (\(multiplier &* field(12) / 1000) ms Detection time), BFD Length: \(u8(offset + 3) ?? 0)"
        text += "\n\tMy Discriminator: 0x\(hex(field(4), width: 8)), Your Discriminator: 0x\(hex(field(8), width: 8))"
        for (name, at) in [("Desired min Tx Interval:    ", 12), ("Required min Rx Interval:   ", 16), ("Required min Echo Interval: ", 20)] {
            let milliseconds = String(field(at) / 1000)
            text += "\n\t  " + name + String(repeating: " ", count: max(0, 4 - milliseconds.count)) + milliseconds + " ms"
        }
        note(text)
        if flags & 0x04 != 0 { bfdAuthentication(at: offset + 24) }
    }

    static let bfdDiagnostics = [
        "No Diagnostic", "Control Detection Time Expired", "Echo Function Failed", "Neighbor Signaled Session Down",
        "Forwarding Plane Reset", "Path Down", "Concatenated Path Down", "Administratively Down", "Reverse Concatenated Path Down",
    ].enumerated().reduce(into: [Int: String]()) { $0[$1.offset] = $1.element }

    /// -v: BFD's authentication section (RFC 5880 4.2-4.4).
    mutating func bfdAuthentication(at offset: Int) {
        guard has(offset, 4), let type = u8(offset), let length = u8(offset + 1).map(Int.init) else { return truncated("bfd") }
        let names: [UInt8: String] = [1: "Simple Password", 2: "Keyed MD5", 3: "Meticulous Keyed MD5", 4: "Keyed SHA1", 5: "Meticulous Keyed SHA1"]
        var text = "\n\tAuthentication: \(names[type] ?? "Unknown") (\(type)), length: \(length)\n\t  Auth Key ID: \(u8(offset + 2) ?? 0)"
        defer { note(text) }
        let (fieldLength, hashLength, label): (Int, Int, String) = switch type {
        case 1: (0, 0, "")
        case 2, 3: (24, 16, "Digest")
        case 4, 5: (28, 20, "Hash")
        default: (-1, 0, "")
        }
        if type == 1 {
            guard (4...19).contains(length) else { text += "[invalid length \(length)]"; return }
            text += ", Password: "
            for index in 0..<(length - 3) {
                guard let byte = u8(offset + 3 + index) else { return truncated("bfd") }
                text += printableCharacter(byte)
            }
        } else if fieldLength > 0 {
            guard length == fieldLength else { text += "[invalid length \(length)]"; return }
            guard let sequence = u32(offset + 4) else { return truncated("bfd") }
            text += ", Sequence Number: 0x\(hex(sequence, width: 8))"
            guard let hash = bytes(offset + 8, hashLength) else { return truncated("bfd") }
            text += "\n\t  \(label): " + hash.map { hex($0, width: 2) }.joined()
        }
    }
}

extension TCPSegment {
    init(ports: (UInt16, UInt16)?) {
        self.init(
            sourcePort: ports?.0, destinationPort: ports?.1, sequence: 0, acknowledgment: 0, flags: 0, window: 0,
            urgentPointer: 0, headerLength: 0, options: [], badOptions: false, optionsTruncated: false, payloadLength: 0,
            problem: nil)
    }
}

extension UDPDatagram {
    init(sourcePort: UInt16?, destinationPort: UInt16? = nil) {
        self.init(sourcePort: sourcePort, destinationPort: destinationPort, payloadLength: 0, availableLength: 0, problem: nil)
    }
}
