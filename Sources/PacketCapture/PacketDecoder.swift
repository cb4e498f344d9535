import BPFObject

/// Takes a captured packet apart, layer by layer, the way `tcpdump -n` reads it: Ethernet
/// (with 802.1Q/802.1ad tags), Linux cooked SLL and SLL2, BSD loopback, Cisco HDLC and raw
/// IP links; ARP, IPv4, IPv6 with its extension headers (jumbograms and routing headers
/// too), TCP with its options (MPTCP and Fast Open among them), UDP, SCTP, DCCP, ICMP,
/// ICMPv6, IGMP, GRE, VRRP, EIGRP, HSRP, BFD, DNS and mDNS, and what tcpdump prints of what
/// it cannot dissect either (an unknown EtherType or IP protocol). Anything else becomes an
/// `.undecoded` layer, and bytes that run out mark the summary truncated — a packet never
/// makes it fail.
public enum PacketDecoder {
    /// `verbosity` is tcpdump's -v count: from 1 on, checksums are checked and the details
    /// tcpdump -v prints are decoded too. `names`, when given, names the hosts, ports and
    /// protocols of the text decoding writes (an ICMP error's), as tcpdump without -n.
    /// `verifyingChecksums` false leaves the IPv4 header's, TCP's and UDP's unchecked (tcpdump -K).
    public static func decode(_ data: [UInt8], originalLength: Int, linkType: LinkType, verbosity: Int = 0, names: PrintedNames? = nil,
                              verifyingChecksums: Bool = true) -> PacketSummary {
        // libpcap's sanity limits; tcpdump prints the record header's faults instead.
        let maximum = 262_144
        var faults: [String] = []
        if data.isEmpty { faults.append(" caplen==0") }
        if originalLength == 0 {
            faults.append(" len==0")
        } else if originalLength < data.count {
            faults.append(" len(\(originalLength)) < caplen(\(data.count))")
        }
        if data.count > maximum { faults.append(" caplen(\(data.count)) > \(maximum)") }
        if originalLength > maximum { faults.append(" len(\(originalLength)) > \(maximum)") }
        if !faults.isEmpty {
            return PacketSummary(layers: [.notice("[Invalid header:" + faults.joined(separator: ",") + "]")])
        }
        var decoding = PacketDecoding(data)
        decoding.verbosity = verbosity
        decoding.names = names
        decoding.verifiesChecksums = verifyingChecksums
        decoding.link(linkType, length: originalLength)
        return decoding.summary
    }

    public static func decode(_ packet: Packet, verbosity: Int = 0, names: PrintedNames? = nil) -> PacketSummary {
        decode(packet.data, originalLength: packet.originalLength, linkType: packet.linkType, verbosity: verbosity, names: names)
    }
}

/// One packet's decoding: a big-endian reader whose end is the current snapshot end (an IP
/// header's total length can shorten it, as in tcpdump) and the layers found so far.
struct PacketDecoding {
    var reader: ByteReader
    var summary = PacketSummary()
    /// The whole frame's length on the wire, which tcpdump prints for types it cannot read.
    var frameLength = 0
    /// How many tunnels (IP in IP, GRE) the packet has been decoded into so far.
    var tunnels = 0
    /// tcpdump's -v count.
    var verbosity = 0
    /// Names for the text decoding writes; nil writes numbers, as tcpdump -n.
    var names: PrintedNames?
    /// Whether the IPv4 header's, TCP's and UDP's checksums are checked (not with tcpdump -K).
    var verifiesChecksums = true
    /// The innermost IP header's version and the addresses its upper layer's checksum covers.
    var pseudoAddresses: (version: Int, source: [UInt8], destination: [UInt8])?

    init(_ data: [UInt8]) {
        reader = ByteReader(data, order: .big)
    }

    var end: Int { reader.end }

    func host(_ address: IPAddress) -> String { names?.host(address) ?? address.description }
    /// An IPv4 (4 bytes) or IPv6 (16) address's text.
    func host(address bytes: [UInt8]) -> String {
        host(bytes.count == 4 ? .v4(IPv4Address(bytes.reduce(0) { $0 << 8 | UInt32($1) })) : .v6(IPv6Address(bytes)))
    }
    func port(_ number: UInt16, _ transport: ServiceTransport) -> String { names?.port(number, transport) ?? "\(number)" }

    func has(_ at: Int, _ count: Int) -> Bool { at >= 0 && count >= 0 && at <= end && end - at >= count }
    func u8(_ at: Int) -> UInt8? { try? reader.u8(at: at) }
    func u16(_ at: Int) -> UInt16? { try? reader.u16(at: at) }
    func u32(_ at: Int) -> UInt32? { try? reader.u32(at: at) }
    func bytes(_ at: Int, _ count: Int) -> [UInt8]? { (try? reader.bytes(at: at, count: count)).map(Array.init) }

    /// The checksum of `length` bytes at `offset` carried by IP protocol `protocolNumber`,
    /// with the pseudo-header; nil when not all of them were captured.
    /// `covering`: how many of the bytes the checksum covers, when not all (DCCP's coverage).
    /// A checksum field past the captured bytes reads as 0.
    func transportChecksum(at offset: Int, length: Int, protocolNumber: UInt8, checksumAt: Int, covering: Int? = nil) -> ChecksumCheck? {
        guard let pseudoAddresses, let data = bytes(offset, covering ?? length) else { return nil }
        let stored = u16(checksumAt) ?? 0
        let lengthBytes: [UInt8] = pseudoAddresses.version == 4
            ? [0, protocolNumber, UInt8(truncatingIfNeeded: length >> 8), UInt8(truncatingIfNeeded: length)]
            : [UInt8(truncatingIfNeeded: length >> 24), UInt8(truncatingIfNeeded: length >> 16), UInt8(truncatingIfNeeded: length >> 8),
               UInt8(truncatingIfNeeded: length), 0, 0, 0, protocolNumber]
        let residual = InternetChecksum.residual([pseudoAddresses.source[...], pseudoAddresses.destination[...], lengthBytes[...], data[...]])
        return ChecksumCheck(stored: stored, residual: residual)
    }

    mutating func add(_ layer: PacketLayer) { summary.layers.append(layer) }
    mutating func note(_ text: String) { summary.layers.append(.notice(text)) }
    mutating func truncated(_ protocolName: String) { summary.truncatedIn = protocolName }
    mutating func undecoded(_ name: String) { summary.layers.append(.undecoded(name)) }

    /// Limits the readable bytes to `count` from `start` (tcpdump's `nd_push_snaplen`).
    mutating func limit(from start: Int, count: Int) {
        let newEnd = min(end, start + max(count, 0))
        if newEnd < end, let limited = try? reader.subrange(at: reader.start, count: newEnd - reader.start) {
            reader = limited
        }
    }

    mutating func link(_ linkType: LinkType, length: Int) {
        switch linkType {
        case .ethernet: ethernet(length: length)
        case .linuxSLL: linuxCooked(version: 1, length: length)
        case .linuxSLL2: linuxCooked(version: 2, length: length)
        case .null, .loop: loopback(length: length)
        case .raw, .ipv4, .ipv6: rawIP(at: 0, length: length)
        case .cHDLC: ciscoHDLC(length: length)
        default: undecoded("link type \(linkType)")
        }
    }

    // MARK: Link layers

    mutating func ethernet(length: Int) {
        frameLength = length
        let captured = end
        guard length >= captured else {
            note("[length \(length) < caplen \(captured)] (invalid)")
            return
        }
        guard captured >= 14, let destination = bytes(0, 6), let source = bytes(6, 6), var type = u16(12) else {
            truncated("ether")
            return
        }
        add(.ethernet(EthernetHeader(source: MACAddress(source), destination: MACAddress(destination), etherType: type)))
        var offset = 14
        var remaining = length - 14
        guard vlanTags(&type, &offset, &remaining, cooked: false) else { return }
        if type <= 1500 {
            undecoded("802.3 LLC")
            return
        }
        etherType(type, at: offset, length: remaining)
    }

    mutating func linuxCooked(version: Int, length: Int) {
        let headerLength = version == 1 ? 16 : 20
        guard has(0, headerLength) else {
            truncated(version == 1 ? "sll" : "sll2")
            return
        }
        let header: LinuxCookedHeader
        if version == 1 {
            let addressLength = min(Int(u16(4) ?? 0), 8)
            header = LinuxCookedHeader(
                version: 1, packetType: u16(0) ?? 0, hardwareType: u16(2) ?? 0, address: bytes(6, addressLength) ?? [],
                etherType: u16(14) ?? 0, interfaceIndex: nil)
        } else {
            let addressLength = min(Int(u8(11) ?? 0), 8)
            header = LinuxCookedHeader(
                version: 2, packetType: UInt16(u8(10) ?? 0), hardwareType: u16(8) ?? 0, address: bytes(12, addressLength) ?? [],
                etherType: u16(0) ?? 0, interfaceIndex: u32(4))
        }
        add(.linuxCooked(header))
        if header.hardwareType == 803 {
            undecoded("802.11 radiotap")
            return
        }
        var type = header.etherType
        var offset = headerLength
        var remaining = length - headerLength
        guard vlanTags(&type, &offset, &remaining, cooked: true) else { return }
        if type <= 1500 {
            undecoded("Linux cooked protocol \(type)")
            return
        }
        etherType(type, at: offset, length: remaining)
    }

    /// Steps over VLAN tags, adding a layer for each; false when they are cut short. Ethernet
    /// takes 802.1Q, 802.1ad and the two pre-standard QinQ types; a cooked header only 802.1Q,
    /// and there a length in place of a type means 802.2 (tcpdump's LINUX_SLL_P_802_2).
    mutating func vlanTags(_ type: inout UInt16, _ offset: inout Int, _ remaining: inout Int, cooked: Bool) -> Bool {
        while cooked ? type == 0x8100 : VLANTag.tagProtocols.contains(type) {
            guard has(offset, 4), cooked || remaining >= 4, let tci = u16(offset), var inner = u16(offset + 2) else {
                truncated("vlan")
                return false
            }
            if cooked && inner <= 1500 { inner = 4 }
            add(.vlan(VLANTag(tagProtocol: type, tci: tci, etherType: inner, inCookedHeader: cooked)))
            type = inner
            offset += 4
            remaining -= 4
        }
        return true
    }

    mutating func loopback(length: Int) {
        guard has(0, 4), let raw = u32(0) else {
            truncated("null")
            return
        }
        // The family is in the capturing host's byte order: swap when the high half is set.
        var family = raw.byteSwapped
        if family & 0xffff_0000 != 0 { family = family.byteSwapped }
        add(.loopback(family: family))
        switch family {
        case 2: ipv4(at: 4, length: length - 4)
        case 24, 28, 30: ipv6(at: 4, length: length - 4)
        default: undecoded("address family \(family)")
        }
    }

    /// Cisco HDLC: address, control and an EtherType; tcpdump prints nothing of it without -e.
    mutating func ciscoHDLC(length: Int) {
        guard length >= 4, let address = u8(0), let type = u16(2) else { return truncated("chdlc") }
        add(.ciscoHDLC(address: address, protocolType: type))
        switch type {
        case 0x0800: ipv4(at: 4, length: length - 4)
        case 0x86dd: ipv6(at: 4, length: length - 4)
        case 0x8035: undecoded("SLARP")
        case 0x8847, 0x8848: undecoded("MPLS")
        case 0xfefe: undecoded("OSI")
        default: note("unknown CHDLC protocol (0x\(hex(type, width: 4)))")
        }
    }

    mutating func rawIP(at offset: Int, length: Int) {
        guard length >= 1 else {
            note("truncated-ip \(length)")
            return
        }
        guard let first = u8(offset) else {
            truncated("raw")
            return
        }
        switch first & 0xf0 {
        case 0x40: ipv4(at: offset, length: length)
        case 0x60: ipv6(at: offset, length: length)
        default: note("unknown ip \(first >> 4)")
        }
    }

    mutating func etherType(_ type: UInt16, at offset: Int, length: Int) {
        switch type {
        case 0x0800: ipv4(at: offset, length: length)
        case 0x86dd: ipv6(at: offset, length: length)
        case 0x0806, 0x8035: arp(at: offset, length: length)
        default: otherEtherType(type, at: offset)
        }
    }

    /// A type this decoder does not take apart. On Ethernet, one tcpdump does not either
    /// prints as tcpdump prints it: the addresses, the type and the frame's length, then the
    /// rest in hex (`rawDataOffset`); one it does is named and left undecoded.
    mutating func otherEtherType(_ type: UInt16, at offset: Int) {
        let name = "ethertype 0x\(hex(type, width: 4))"
        guard case .ethernet(let header)? = summary.layers.first else { return undecoded(name) }
        add(.undissectedFrame(EthernetHeader(source: header.source, destination: header.destination, etherType: type), frameLength: frameLength))
        if EtherTypes.dissected.contains(type) {
            undecoded(EtherTypes.names[type] ?? name)
        } else {
            summary.rawDataOffset = offset
        }
    }
}

extension VLANTag {
    /// 802.1Q, the two pre-standard QinQ types and 802.1ad.
    static let tagProtocols: Set<UInt16> = [0x8100, 0x9100, 0x9200, 0x88a8]

    init(tagProtocol: UInt16, tci: UInt16, etherType: UInt16, inCookedHeader: Bool) {
        self.init(
            tagProtocol: tagProtocol, id: tci & 0x0fff, priority: UInt8(tci >> 13), dropEligible: tci & 0x1000 != 0,
            etherType: etherType, inCookedHeader: inCookedHeader)
    }
}

/// Lowercase hex, zero-padded to `width` digits.
func hex(_ value: some BinaryInteger, width: Int) -> String {
    let digits = String(value, radix: 16)
    return digits.count >= width ? digits : String(repeating: "0", count: width - digits.count) + digits
}
