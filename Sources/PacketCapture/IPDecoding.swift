/// ARP, IPv4 and IPv6 with its extension headers, and the hand-off to the protocol above.
extension PacketDecoding {
    mutating func arp(at offset: Int, length: Int) {
        guard has(offset, 8), let hardwareType = u16(offset), let protocolType = u16(offset + 2),
              let hardwareLength = u8(offset + 4).map(Int.init), let protocolLength = u8(offset + 5).map(Int.init),
              let operation = u16(offset + 6)
        else {
            truncated("arp")
            return
        }
        guard has(offset + 8, 2 * hardwareLength + 2 * protocolLength) else {
            truncated("arp")
            return
        }
        // ATM's and Frame Relay's address formats are their own; tcpdump prints them apart.
        guard hardwareType != 19, hardwareType != 15 else {
            undecoded("ARP for hardware \(hardwareType)")
            return
        }
        let protocolStart = offset + 8 + hardwareLength
        let targetStart = protocolStart + protocolLength
        let message = ARPMessage(
            hardwareType: hardwareType, protocolType: protocolType, operation: operation,
            senderHardware: MACAddress(bytes(offset + 8, hardwareLength) ?? []),
            senderAddress: IPv4Address(protocolLength == 4 ? u32(protocolStart) ?? 0 : 0),
            targetHardware: MACAddress(bytes(targetStart, hardwareLength) ?? []),
            targetAddress: IPv4Address(protocolLength == 4 ? u32(targetStart + hardwareLength) ?? 0 : 0),
            length: length, protocolLength: protocolLength)
        add(.arp(message))
        if PacketPrinter.arpDumpsTheRest(message, verbose: verbosity > 0) {
            summary.rawDataOffset = offset
            summary.rawDataAlwaysPrinted = true
        }
    }

    mutating func ipv4(at offset: Int, length: Int) {
        guard let first = u8(offset) else {
            truncated("ip")
            return
        }
        guard first >> 4 == 4 else {
            note(first >> 4 == 6 ? "IP6, wrong link-layer encapsulation (invalid)" : "IP\(first >> 4) (invalid)")
            return
        }
        guard has(offset, 20) else {
            add(.protocolName("IP "))
            truncated("ip")
            return
        }
        guard length >= 20 else {
            add(.protocolName("IP "))
            note("truncated-ip \(length)")
            return
        }
        let headerLength = Int(first & 0x0f) * 4
        guard headerLength >= 20 else {
            add(.protocolName("IP "))
            note("bad-hlen \(headerLength)")
            return
        }
        let totalLength = Int(u16(offset + 2) ?? 0)
        let missing = length < totalLength ? totalLength - length : nil
        guard totalLength >= headerLength else {
            add(.protocolName("IP "))
            note((missing.map { "truncated-ip - \($0) bytes missing! " } ?? "") + "bad-len \(totalLength)")
            return
        }
        limit(from: offset, count: totalLength)
        let fragmentField = u16(offset + 6) ?? 0
        var header = IPv4Header(
            source: IPv4Address(u32(offset + 12) ?? 0), destination: IPv4Address(u32(offset + 16) ?? 0),
            protocolNumber: u8(offset + 9) ?? 0, timeToLive: u8(offset + 8) ?? 0, identification: u16(offset + 4) ?? 0,
            headerLength: headerLength, totalLength: totalLength, fragmentOffset: Int(fragmentField & 0x1fff) * 8,
            moreFragments: fragmentField & 0x2000 != 0, dontFragment: fragmentField & 0x4000 != 0, missingBytes: missing)
        if verbosity > 0 {
            header.typeOfService = u8(offset + 1) ?? 0
            header.reservedFlag = fragmentField & 0x8000 != 0
            if headerLength > 20 {
                let options = ipv4OptionsText(at: offset + 20, length: headerLength - 20)
                header.options = options.text
                header.optionsTruncated = options.truncated
            }
            if verifiesChecksums, let headerBytes = bytes(offset, headerLength) {
                header.headerChecksum = ChecksumCheck(stored: u16(offset + 10) ?? 0, residual: InternetChecksum.residual([headerBytes[...]]))
            }
        }
        add(.ipv4(header))
        if header.optionsTruncated { return truncated("ip") }
        if verbosity > 0 {
            pseudoAddresses = (4, header.source.bytes, ipv4FinalDestination(at: offset + 20, length: headerLength - 20) ?? header.destination.bytes)
        }
        guard header.fragmentOffset == 0 else { return }
        guard has(offset, headerLength) else {
            note(" [remaining caplen(\(max(end - offset, 0))) < header length(\(headerLength))]")
            truncated("ip")
            return
        }
        demultiplex(header.protocolNumber, at: offset + headerLength, length: totalLength - headerLength, version: 4, fragmented: header.moreFragments)
    }

    mutating func ipv6(at offset: Int, length: Int) {
        guard has(offset, 40), let first = u8(offset) else {
            truncated("ip6")
            return
        }
        guard length >= 40 else {
            note("truncated-ip6 \(length)")
            return
        }
        guard first >> 4 == 6 else {
            add(.protocolName("IP6 "))
            note("version error: \(first >> 4) != 6")
            return
        }
        var payloadLength = Int(u16(offset + 4) ?? 0)
        // A payload length of 0 announces a jumbogram, whose length a hop-by-hop option gives;
        // until it is found, everything in the packet counts, as in tcpdump.
        var remaining = payloadLength == 0 ? length + 40 : payloadLength + 40
        var header = IPv6Header(
            source: IPv6Address(bytes(offset + 8, 16) ?? []), destination: IPv6Address(bytes(offset + 24, 16) ?? []),
            nextHeader: u8(offset + 6) ?? 0, hopLimit: u8(offset + 7) ?? 0, payloadLength: payloadLength,
            flowLabel: (u32(offset) ?? 0) & 0xfffff, missingBytes: payloadLength != 0 && length < remaining ? remaining - length : nil)
        header.trafficClass = UInt8(truncatingIfNeeded: (u32(offset) ?? 0) >> 20)
        add(.ipv6(header))
        if verbosity > 0 { pseudoAddresses = (6, header.source.bytes, header.destination.bytes) }
        limit(from: offset, count: remaining)
        var next = header.nextHeader
        var cursor = offset
        var advance = 40
        var fragmented = false
        var sawHopByHop = false
        var jumboLength: Int?
        while cursor < end && advance > 0 {
            guard remaining >= advance else {
                truncated("ip6")
                return
            }
            cursor += advance
            remaining -= advance
            let kind: IPv6ExtensionHeader.Kind
            switch next {
            case 0:
                guard !sawHopByHop, cursor == offset + 40 else {
                    note("[The Hop-by-Hop Options header " + (sawHopByHop ? "was already found" : "don't follow the IPv6 header") + "] (invalid)")
                    return
                }
                sawHopByHop = true
                kind = .hopByHop
            case 60: kind = .destinationOptions
            case 44: kind = .fragment
            case 43:
                guard let headerLength = routingHeader(at: cursor) else { return }
                advance = headerLength
                next = u8(cursor) ?? 0
                continue
            case 135, 62:
                undecoded("IPv6 mobility header")
                return
            default:
                if let jumboLength {
                    let total = jumboLength + 40
                    guard total >= cursor - offset else { return truncated("ip6") }
                    if length < total { note("truncated-ip6 - \(total - length) bytes missing!") }
                    limit(from: offset, count: total)
                    remaining = total - (cursor - offset)
                } else if payloadLength == 0 {
                    // No payload at all: an extension header here is a truncated one.
                    guard cursor == offset + 40 else { return truncated("ip6") }
                    limit(from: offset, count: 40)
                    remaining = 0
                }
                demultiplex(next, at: cursor, length: remaining, version: 6, fragmented: fragmented)
                return
            }
            let protocolName = kind == .hopByHop ? "hbhopt" : kind == .fragment ? "frag6" : "dstopt"
            guard let nextHeader = u8(cursor), let lengthField = u8(cursor + 1) else {
                truncated(protocolName)
                return
            }
            if kind == .fragment {
                guard let field = u16(cursor + 2) else {
                    truncated(protocolName)
                    return
                }
                let fragmentOffset = Int(field & 0xfff8)
                let fragmentLength = 40 + payloadLength - (cursor - offset) - 8
                var header = IPv6ExtensionHeader(kind: .fragment, nextHeader: nextHeader, length: 8, fragmentOffset: fragmentOffset, fragmentLength: fragmentLength)
                if verbosity > 0 {
                    guard let identification = u32(cursor + 4) else { return truncated(protocolName) }
                    header.identification = identification
                }
                add(.ipv6Extension(header))
                // Later fragments hold no header to decode; neither does a first one that ends here.
                if fragmentOffset != 0 || end <= cursor + 8 { return }
                advance = 8
                fragmented = true
            } else {
                let headerLength = (Int(lengthField) + 1) * 8
                guard has(cursor, headerLength) else {
                    truncated(protocolName)
                    return
                }
                let hopByHop = kind == .hopByHop ? hopByHopOptions(cursor + 2, headerLength - 2) : nil
                if kind == .hopByHop, hopByHop == nil {
                    add(.ipv6Extension(IPv6ExtensionHeader(kind: kind, nextHeader: nextHeader, length: headerLength)))
                    truncated(protocolName)
                    return
                }
                var header = IPv6ExtensionHeader(kind: kind, nextHeader: nextHeader, length: headerLength)
                if verbosity > 0 {
                    let options = ipv6OptionsText(at: cursor + 2, length: headerLength - 2, hopByHop: kind == .hopByHop, payloadLength: payloadLength)
                    header.text = options.text
                    if options.truncated {
                        add(.ipv6Extension(header))
                        return truncated(protocolName)
                    }
                }
                add(.ipv6Extension(header))
                if kind == .hopByHop {
                    if payloadLength == 0, let jumbo = hopByHop?.jumboLength, jumbo >= 65536 {
                        jumboLength = jumbo
                        payloadLength = jumbo
                    }
                    guard payloadLength != 0 else {
                        return note("[No valid Jumbo Payload Hop-by-Hop option found] (invalid)")
                    }
                }
                advance = headerLength
            }
            next = nextHeader
        }
    }

    /// A routing header as tcpdump prints it (`RT6 (len=2, type=0 [Deprecated], segleft=1,
    /// [0]2200::1) `): type 0 and 2 list their addresses, type 4 (segment routing) its
    /// last entry, flags, tag and segments. Its length in bytes, or nil where tcpdump stops
    /// (an unknown type or odd length, or the captured bytes end).
    mutating func routingHeader(at offset: Int) -> Int? {
        var header = IPv6ExtensionHeader(kind: .routing, nextHeader: u8(offset) ?? 0, length: 0, text: "RT6")
        defer { add(.ipv6Extension(header)) }
        guard let lengthField = u8(offset + 1) else { return stopRouting(truncated: true) }
        header.length = (Int(lengthField) + 1) * 8
        header.text? += " (len=\(lengthField)"
        guard let type = u8(offset + 2) else { return stopRouting(truncated: true) }
        header.text? += ", type=\(type)" + (type == 0 ? " [Deprecated]" : "")
        guard let segmentsLeft = u8(offset + 3) else { return stopRouting(truncated: true) }
        header.text? += ", segleft=\(segmentsLeft)"
        switch type {
        case 0, 2:
            guard let reserved = u32(offset + 4) else { return stopRouting(truncated: true) }
            if reserved != 0 || verbosity > 0 { header.text? += ", rsv=0x\(String(reserved, radix: 16))" }
        case 4:
            guard let lastEntry = u8(offset + 4) else { return stopRouting(truncated: true) }
            header.text? += ", last-entry=\(lastEntry)"
            guard let flags = u8(offset + 5) else { return stopRouting(truncated: true) }
            if flags != 0 || verbosity > 0 { header.text? += ", flags=0x\(String(flags, radix: 16))" }
            guard let tag = u16(offset + 6) else { return stopRouting(truncated: true) }
            header.text? += ", tag=\(String(tag, radix: 16))"
        default:
            header.text? += " (unknown type) (invalid)"
            return stopRouting(truncated: false)
        }
        guard lengthField % 2 == 0 else {
            header.text? += " (invalid length \(lengthField)) (invalid)"
            return stopRouting(truncated: false)
        }
        for index in 0..<Int(lengthField / 2) {
            guard let address = bytes(offset + 8 + 16 * index, 16) else { return stopRouting(truncated: true) }
            header.text? += ", [\(index)]\(host(.v6(IPv6Address(address))))"
            // The pseudo-header's destination is the last address (type 0) or first segment (type 4).
            if type == 0 || (type == 4 && index == 0) { pseudoAddresses?.destination = address }
        }
        header.text? += ") "
        return header.length
    }

    /// Ends a routing header: the line stops there, cut short (`[|rt6]`) or not.
    private mutating func stopRouting(truncated isTruncated: Bool) -> Int? {
        if isTruncated { truncated("rt6") }
        return nil
    }

    /// A hop-by-hop header's options walked once: nil when one does not fit the header or
    /// has an insane length (router alert, jumbo payload, home address), as tcpdump stops
    /// there; else what tcpdump reads of them.
    func hopByHopOptions(_ start: Int, _ length: Int) -> HopByHopOptions? {
        var jumbo: Int?
        var index = 0
        while index < length {
            guard let type = u8(start + index) else { return nil }
            if type == 0 {
                index += 1
                continue
            }
            guard index + 1 < length, let optionLength = u8(start + index + 1).map({ Int($0) + 2 }),
                  index + optionLength <= length
            else { return nil }
            switch type {
            case 5 where optionLength != 4: return nil  // router alert
            case 0xc2 where optionLength != 6: return nil  // jumbo payload
            case 0xc9 where optionLength < 18: return nil  // home address
            case 0xc2 where jumbo == nil: jumbo = u32(start + index + 2).map(Int.init)
            default: break
            }
            index += optionLength
        }
        return HopByHopOptions(jumboLength: jumbo)
    }

    /// tcpdump's `ip_demux_print` cases: AH, ESP, IPComp, SCTP, DCCP, TCP, UDP, ICMP, ICMPv6,
    /// PIGP, EIGRP, ND, EGP, OSPF, IGMP, IPv4, IPv6, RSVP, GRE, MOBILE, PIM, VRRP, PGM,
    /// Ethernet and no next header.
    static let tunnelLimit = 32

    static let ipProtocolsTcpdumpDissects: Set<UInt8> = [
        51, 50, 108, 132, 33, 6, 17, 1, 58, 9, 88, 77, 8, 89, 2, 4, 41, 46, 47, 55, 103, 112, 113, 143, 59,
    ]

    /// The protocol above IP: `version` 4 or 6, `fragmented` when more fragments follow.
    mutating func demultiplex(_ protocolNumber: UInt8, at offset: Int, length: Int, version: Int, fragmented: Bool) {
        // Each tunnel (IP in IP, GRE) decodes the packet inside by recursion: a crafted
        // packet of thousands of nested headers stops here, not on the thread's stack.
        if [4, 41, 47].contains(protocolNumber) {
            guard tunnels < Self.tunnelLimit else { return undecoded("tunnels nested more than \(Self.tunnelLimit) deep") }
            tunnels += 1
        }
        switch protocolNumber {
        case 6: tcp(at: offset, length: length, fragmented: fragmented)
        case 17: udp(at: offset, length: length, fragmented: fragmented)
        case 1 where version == 4: icmp(at: offset, length: length, fragmented: fragmented)
        case 58 where version == 6: icmpv6(at: offset, length: length, fragmented: fragmented)
        case 2 where version == 4: igmp(at: offset, length: length)
        case 47: gre(at: offset, length: length)
        case 112: vrrp(at: offset, length: length)
        case 88: eigrp(at: offset, length: length)
        case 1, 2 where version == 6: note("[\(protocolNumber == 1 ? "ICMP" : "IGMP") requires IPv4] (invalid)")
        case 58, 143 where version == 4: note("[\(protocolNumber == 58 ? "ICMPv6" : "Ethernet") requires IPv6] (invalid)")
        case 59: note("no next header")
        case 77: note(" nd \(length)")
        case 4: ipv4(at: offset, length: length)
        case 41: ipv6(at: offset, length: length)
        case 132: sctp(at: offset, length: length)
        case 33: dccp(at: offset, length: length)
        // Protocols tcpdump has no dissector for print as their number and length.
        case let other where !Self.ipProtocolsTcpdumpDissects.contains(other): note(" \(names?.ipProtocol(other) ?? "ip-proto-\(other)") \(length)")
        default: undecoded("IP protocol \(protocolNumber)")
        }
    }
}

/// What a well-formed hop-by-hop header's options say: the first Jumbo Payload length.
struct HopByHopOptions {
    var jumboLength: Int?
}
