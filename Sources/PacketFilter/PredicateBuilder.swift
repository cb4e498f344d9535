import BPFInstructions
import ClassicBPF

/// What the link layer has turned into after `vlan`, `mpls` and `pppoes`, which move the
/// headers that follow them for the rest of the expression, in the order written, as in
/// libpcap.
enum Encapsulation: Sendable {
    case plain, mpls, pppoe
}

/// Builds the predicates of the primitives for one link type: the tests libpcap's gencode
/// makes, so that both accept the same packets. Errors carry no position; the parser adds it.
struct PredicateBuilder {
    let linkType: FilterLinkType
    /// Where the predicates' parts go; shared by copies of the builder, as the parser
    /// copies it to backtrack.
    let arena: PredicateArena
    /// Where the EtherType (or SLL protocol) is; nil for raw IP and BSD loopback.
    var etherTypeOffset: UInt32?
    var networkOffset: UInt32
    var encapsulation = Encapsulation.plain
    /// Whether a `pppoes` came before: as libpcap, the link is PPP from there on, which has
    /// no Ethernet addresses, broadcast, multicast or VLAN tags (past `geneve`, the inner
    /// frame's Ethernet header has them again).
    var overPPP = false
    /// For packets from a capture file, the byte order it was written in; nil for packets
    /// captured on this host.
    let fileByteOrder: ByteOrder?
    /// For a live Linux packet socket, what reads differently there; nil for capture files.
    let live: LiveForm?
    /// Whether a `vlan` came before: only the first one can find its tag taken out.
    var seenVLAN = false
    /// The run-time part of every offset past the link header, once something of variable
    /// length came before it (see `packet`); nil while offsets are constants.
    var offsetIndex: FilterValue?
    /// The run-time part of the EtherType's offset (see `linkTypeField`): past `geneve`,
    /// not always `offsetIndex`, as without an inner Ethernet header it is Geneve's own.
    var linkTypeIndex: FilterValue?
    /// How many `geneve`s came before.
    var genevesSeen = 0
    /// Past `geneve`, the words that say where its inner frame is.
    var innerFrame: GeneveWords?
    /// Whether a `geneve` came before: what follows reads the inner frame as Ethernet.
    var afterGeneve: Bool { innerFrame != nil }

    /// How the primitives that libpcap lays out otherwise are laid out.
    let layout: FilterLayout
    /// Whether `port` without a protocol is laid out once per protocol (see `port`).
    var portsPerProtocol: Bool { layout != .shared }

    init(linkType: FilterLinkType, fileByteOrder: ByteOrder? = nil, live: LiveForm? = nil, arena: PredicateArena,
         layout: FilterLayout = .shared) {
        self.linkType = linkType
        self.layout = layout
        self.arena = arena
        self.fileByteOrder = fileByteOrder
        self.live = live
        networkOffset = linkType.networkOffset
        etherTypeOffset = switch linkType {
        case .ethernet: 12
        case .sll: 14
        case .sll2: 0
        case .raw, .null, .ipv4, .ipv6: nil
        }
    }

    struct Failure: Error { var message: String }

    static let etherMTU: UInt32 = 1500

    private var linkName: String {
        if overPPP, innerFrame == nil { return "PPP" }
        return switch linkType {
        case .ethernet: "Ethernet"
        case .raw: "Raw IP"
        case .ipv4: "Raw IPv4"
        case .ipv6: "Raw IPv6"
        case .sll: "Linux cooked v1"
        case .sll2: "Linux cooked v2"
        case .null: "BSD loopback"
        }
    }

    /// The packet's `size` bytes at `offset` past the link header's start, moved by the
    /// run-time `offsetIndex` when there is one.
    /// Indexed loads go into the arena at once, named by number: a `.loadIndexed` value is
    /// boxed, an allocation for each load past `geneve` or a live `vlan`.
    func packet(_ size: LoadSize, _ offset: UInt32) -> FilterValue {
        guard let offsetIndex else { return .load(size, offset) }
        return arena.loadIndexed(size, index: offsetIndex, offset)
    }

    /// The link header's `size` bytes at `offset`: past `geneve`, the inner frame's.
    func linkHeaderField(_ size: LoadSize, _ offset: UInt32) -> FilterValue {
        guard let innerFrame else { return .load(size, offset) }
        return arena.loadIndexed(size, index: .scratch(innerFrame.payload), offset)
    }

    /// The packet's `size` bytes at `offset` from the EtherType on, moved by `linkTypeIndex`.
    func linkTypeField(_ size: LoadSize, _ offset: UInt32) -> FilterValue {
        guard let linkTypeIndex else { return .load(size, offset) }
        return arena.loadIndexed(size, index: linkTypeIndex, offset)
    }

    // MARK: Link layer

    /// The packet carries `etherType` (or an LLC SAP for values up to 1500): libpcap's gen_linktype.
    func linkProtocol(_ etherType: UInt32) throws(Failure) -> Predicate {
        switch encapsulation {
        case .mpls:
            // Only the bottom label can be followed by IP, told apart by its version nibble.
            // Past `geneve` the network offset is 0 and X holds it: the label wraps to `[x - 2]`.
            // libpcap tests the bit as `and #1; jeq #1`, a value of its own, which its optimizer
            // does not relate to another `mpls`'s `jset #1` on the same byte: told apart as a
            // relation's comparison is, where false filters are refused as libpcap refuses them
            // (`not mpls and port 53 and mpls 100` compiles there).
            let bottom = arena.test(FilterTest(value: packet(.byte, networkOffset &- 2), condition: .set, operand: .constant(1)),
                                    relation: true)
            switch etherType {
            case 0x0800: return arena.and(bottom, arena.masked(packet(.byte, networkOffset), 0xf0, 0x40))
            case 0x86dd: return arena.and(bottom, arena.masked(packet(.byte, networkOffset), 0xf0, 0x60))
            default: throw Failure(message: "only ip and ip6 can follow mpls")
            }
        case .pppoe:
            let ppp: UInt32 = switch etherType {
            case 0x0800: 0x21
            case 0x86dd: 0x57
            case 0x809b: 0x29
            case 0x8137: 0x2b
            case 0x6003: 0x27
            default: etherType
            }
            return arena.equal(packet(.half, networkOffset - 2), ppp)
        case .plain:
            break
        }
        // libpcap reads an inner frame past Geneve as Ethernet, whatever the outer link.
        if afterGeneve { return try ethernetProtocol(etherType) }
        switch linkType {
        case .raw:
            switch etherType {
            case 0x0800: return arena.masked(.load(.byte, 0), 0xf0, 0x40)
            case 0x86dd: return arena.masked(.load(.byte, 0), 0xf0, 0x60)
            default: return arena.always(false)
            }
        case .ipv4, .ipv6:
            // No version to read: every packet is of the link type's protocol. libpcap tests a
            // constant (`ld #0; jeq #0`), which its optimizer folds only once a pass has begun.
            let carried = etherType == (linkType == .ipv4 ? 0x0800 : 0x86dd)
            guard layout == .libpcap else {
                arena.laidOutUnlikeLibpcap = true
                return arena.always(carried)
            }
            return arena.equal(.constant(carried ? 0 : 1), 0)
        case .null:
            // The family is in the byte order of the host that captured. A live capture is
            // this host's (Linux: AF_INET6 is 10); a file may come from any BSD, whose
            // AF_INET6 is 30, 24 or 28, as libpcap checks for savefiles.
            let order = fileByteOrder ?? .host
            func family(_ value: UInt32) -> Predicate { arena.equal(.load(.word, 0), order == .little ? value.byteSwapped : value) }
            switch etherType {
            case 0x0800: return family(2)
            case 0x86dd: return fileByteOrder == nil ? family(10) : arena.any([family(30), family(24), family(28)])
            default: return arena.always(false)
            }
        case .ethernet:
            return try ethernetProtocol(etherType)
        case .sll, .sll2:
            return try cookedProtocol(etherType)
        }
    }

    private func ethernetProtocol(_ etherType: UInt32) throws(Failure) -> Predicate {
        let type = linkTypeField(.half, etherTypeOffset ?? 12)
        // The LLC SAPs follow the EtherType (or length); the 802.2 SNAP and IPX forms are
        // read at the network offset, the same place unless Geneve carries no inner header.
        let llc = (etherTypeOffset ?? 12) + 2
        // Built only where used: the common EtherTypes need no 802.3 length check.
        var isLength: Predicate { arena.not(arena.compare(type, .gt, Self.etherMTU)) }
        switch etherType {
        case 0xfe, 0xf0, 0x06:
            return arena.and(isLength, arena.equal(linkTypeField(.half, llc), etherType << 8 | etherType))
        case 0x8137:
            let snap = arena.and(arena.equal(packet(.word, networkOffset + 4), 0x8137), arena.equal(packet(.word, networkOffset), 0xaaaa_0300))
            let llcForms = arena.any([snap, arena.equal(packet(.byte, networkOffset), 0xe0), arena.equal(packet(.half, networkOffset), 0xffff)])
            return arena.or(arena.equal(type, 0x8137), arena.and(isLength, llcForms))
        case 0x809b, 0x80f3:
            let snapType: UInt32 = etherType == 0x809b ? 0x0007_809b : 0x80f3
            let snapHeader: UInt32 = etherType == 0x809b ? 0xaaaa_0308 : 0xaaaa_0300
            let snap = arena.and(arena.equal(packet(.word, networkOffset + 4), snapType), arena.equal(packet(.word, networkOffset), snapHeader))
            return arena.or(arena.equal(type, etherType), arena.and(isLength, snap))
        case ...Self.etherMTU:
            return arena.and(isLength, arena.equal(linkTypeField(.byte, llc), etherType))
        default:
            return arena.equal(type, etherType)
        }
    }

    private func cookedProtocol(_ etherType: UInt32) throws(Failure) -> Predicate {
        let type = packet(.half, etherTypeOffset ?? 0)
        let payload = networkOffset
        if linkType == .sll2 {
            // libpcap 1.10 has no 802.2 forms for cooked v2: it compares the protocol
            // field alone (with an LLC SAP too), and IPX's with the IPX SAP.
            return arena.equal(type, etherType == 0x8137 ? 0xe0 : etherType)
        }
        var isLLC: Predicate { arena.equal(type, 4) }
        switch etherType {
        case 0x8137:
            let snap = arena.and(arena.equal(packet(.word, payload + 4), 0x8137), arena.equal(packet(.word, payload), 0xaaaa_0300))
            return arena.any([arena.equal(type, 0x8137), arena.equal(type, 1),
                              arena.and(isLLC, arena.or(arena.equal(packet(.byte, payload), 0xe0), snap))])
        case 0x809b, 0x80f3:
            let snapType: UInt32 = etherType == 0x809b ? 0x0007_809b : 0x80f3
            let snapHeader: UInt32 = etherType == 0x809b ? 0xaaaa_0308 : 0xaaaa_0300
            let snap = arena.and(arena.and(isLLC, arena.equal(packet(.word, payload + 4), snapType)), arena.equal(packet(.word, payload), snapHeader))
            return arena.or(arena.equal(type, etherType), snap)
        case 0xfe, 0xf0, 0x06:
            return arena.and(isLLC, arena.equal(packet(.half, payload), etherType << 8 | etherType))
        case ...Self.etherMTU:
            return arena.and(isLLC, arena.equal(packet(.byte, payload), etherType))
        default:
            return arena.equal(type, etherType)
        }
    }

    /// `llc`: 802.2 frames, which are neither Ethernet II nor Novell's raw 802.3.
    func llc() throws(Failure) -> Predicate {
        guard linkType == .ethernet || afterGeneve, encapsulation == .plain else {
            let link = switch encapsulation {
            case .plain: linkName
            case .pppoe: "PPP"
            case .mpls: "MPLS"
            }
            throw Failure(message: "'llc' is not supported for \(link)")
        }
        let offset = etherTypeOffset ?? 12
        return arena.and(arena.not(arena.compare(linkTypeField(.half, offset), .gt, Self.etherMTU)),
                         arena.not(arena.equal(packet(.half, networkOffset), 0xffff)))
    }

    /// Whether the link header is Ethernet's: the link type's, or past `geneve` the inner frame's.
    private var ethernetLink: Bool { linkType == .ethernet && !overPPP || innerFrame != nil }

    func requireEthernet(_ what: String) throws(Failure) {
        guard ethernetLink else {
            throw Failure(message: "\(what) are supported only on Ethernet, not on \(linkName)")
        }
    }

    /// `ether src/dst/host MAC`: a 4-byte then a 2-byte comparison, as libpcap.
    func etherAddress(_ mac: [UInt8], _ direction: Direction) throws(Failure) -> Predicate {
        try requireEthernet("Ethernet addresses")
        func at(_ offset: UInt32) -> Predicate {
            let low = mac[2...5].reduce(UInt32(0)) { $0 << 8 | UInt32($1) }
            let high = UInt32(mac[0]) << 8 | UInt32(mac[1])
            return arena.and(arena.equal(linkHeaderField(.word, offset + 2), low), arena.equal(linkHeaderField(.half, offset), high))
        }
        return ifInnerEthernet(direction.combine(source: at(6), destination: at(0), in: arena))
    }

    private func requireBroadcastLink() throws(Failure) {
        guard ethernetLink else { throw Failure(message: "\(linkName) is not a broadcast link") }
    }

    func etherBroadcast() throws(Failure) -> Predicate {
        try requireBroadcastLink()
        return ifInnerEthernet(arena.and(arena.equal(linkHeaderField(.word, 2), 0xffff_ffff), arena.equal(linkHeaderField(.half, 0), 0xffff)))
    }

    func etherMulticast() throws(Failure) -> Predicate {
        try requireBroadcastLink()
        return ifInnerEthernet(arena.compare(linkHeaderField(.byte, 0), .set, 1))
    }

    /// `p`, past `geneve` only where the inner frame has an Ethernet header.
    private func ifInnerEthernet(_ p: Predicate) -> Predicate {
        guard let innerEthernet else { return p }
        return arena.and(innerEthernet, p)
    }

    // MARK: VLAN, MPLS, PPPoE

    mutating func vlan(_ id: UInt32?) throws(Failure) -> Predicate {
        if encapsulation == .mpls { throw Failure(message: "no VLAN match after MPLS") }
        guard linkType == .ethernet || afterGeneve, encapsulation == .plain, let offset = etherTypeOffset else {
            throw Failure(message: "no VLAN support for \(linkName)")
        }
        if let id, id > 0xfff { throw Failure(message: "VLAN tag \(id) is greater than the maximum 4095") }
        let type = linkTypeField(.half, offset)
        var p = arena.or(arena.equal(type, 0x8100), arena.or(arena.equal(type, 0x88a8), arena.equal(type, 0x9100)))
        // The tag's TCI is where the network header would be (libpcap reads it there).
        if let id { p = arena.and(p, arena.masked(packet(.half, networkOffset), 0x0fff, id)) }
        if !seenVLAN {
            seenVLAN = true
            arena.firstVLAN = VLANPrimitive(test: p, id: id)
            switch live?.firstTag {
            case .stays: return p
            case .indexes(let length):
                offsetIndex = .saved(length)
                linkTypeIndex = offsetIndex
                return p
            case .moves, nil: break
            }
        }
        etherTypeOffset = offset + 4
        networkOffset += 4
        return p
    }

    mutating func mpls(_ label: UInt32?) throws(Failure) -> Predicate {
        // PPPoE carries MPLS on any link type; a label stack goes on wherever it started.
        guard linkType == .ethernet || encapsulation != .plain || afterGeneve else {
            throw Failure(message: "no MPLS support for \(linkName)")
        }
        if let label, label > 0xfffff { throw Failure(message: "MPLS label \(label) is greater than the maximum 1048575") }
        var p: Predicate = switch encapsulation {
        case .mpls: arena.not(arena.compare(packet(.byte, networkOffset &- 2), .set, 1))
        // PPP's protocol number for unicast MPLS.
        case .pppoe: arena.equal(packet(.half, networkOffset - 2), 0x0281)
        case .plain: try linkProtocol(0x8847)
        }
        if let label { p = arena.and(p, arena.masked(packet(.word, networkOffset), 0xffff_f000, label << 12)) }
        encapsulation = .mpls
        networkOffset += 4
        return p
    }

    mutating func pppoeSession(_ id: UInt32?) throws(Failure) -> Predicate {
        if let id, id > 0xffff { throw Failure(message: "PPPoE session \(id) is greater than the maximum 65535") }
        // A second one tests PPP's protocol field for the PPPoE session EtherType, as libpcap's
        // does; after `mpls`, `linkProtocol` refuses it.
        var p = try linkProtocol(0x8864)
        if let id { p = arena.and(p, arena.masked(packet(.word, networkOffset), 0xffff, id)) }
        encapsulation = .pppoe
        overPPP = true
        networkOffset += 8
        return p
    }

    // MARK: Network layer

    func ipProtocol(_ number: UInt32) throws(Failure) -> Predicate {
        arena.testsIPProtocol = true
        return try arena.and(linkProtocol(0x0800), arena.equal(packet(.byte, networkOffset + 9), number))
    }

    /// The IPv6 next header, or the one after a fragment header.
    func ip6Protocol(_ number: UInt32) throws(Failure) -> Predicate {
        arena.testsIPProtocol = true
        let next = packet(.byte, networkOffset + 6)
        return try arena.and(linkProtocol(0x86dd),
                             arena.or(arena.equal(next, number),
                                      arena.and(arena.equal(next, 44), arena.equal(packet(.byte, networkOffset + 40), number))))
    }

    /// `ip protochain N` or `ip6 protochain N`.
    func protocolChain(_ number: UInt32, ipVersion: UInt8) throws(Failure) -> Predicate {
        // The chain's loop reads at constant offsets (a live VLAN filter moves it by parsing twice).
        guard offsetIndex == nil, !afterGeneve else { throw Failure(message: "'protochain' is not supported with variable length headers") }
        let chain = ProtocolChain(networkOffset: networkOffset, ipVersion: ipVersion, target: number)
        return try arena.and(linkProtocol(ipVersion == 6 ? 0x86dd : 0x0800), arena.equal(.protocolChain(chain), 1))
    }

    /// A transport or other IP protocol keyword (`tcp`, `icmp`, `pim`...).
    func protocolKeyword(_ name: String) throws(Failure) -> Predicate {
        switch name {
        case "icmp", "igmp", "igrp", "vrrp", "carp":
            return try ipProtocol(FilterNames.ipProtocols[name] ?? 0)
        case "icmp6":
            return try ip6Protocol(58)
        case "tcp", "udp", "sctp", "pim", "ah", "esp":
            let number = FilterNames.ipProtocols[name] ?? 0
            return try arena.or(ipProtocol(number), ip6Protocol(number))
        default:
            if let etherType = FilterNames.etherTypes[name] { return try linkProtocol(etherType) }
            if let number = FilterNames.isoProtocols[name] { return try isoProtocol(number) }
            if let types = FilterNames.isisPDUTypes[name] {
                return try arena.any(types.map { (type: UInt32) throws(Failure) -> Predicate in try isisPDU(type) })
            }
            throw Failure(message: "'\(name)' cannot be used alone")
        }
    }

    /// Not a fragment after the first: the IPv4 fragment offset is zero.
    var firstFragment: Predicate { arena.not(arena.compare(packet(.half, networkOffset + 6), .set, 0x1fff)) }

    /// Where a transport header starts, past the IPv4 header's options: `index + offset`.
    /// With an `offsetIndex`, the header length is read through it (libpcap's `ldb [x+k]`
    /// then `add x`): `ldxb` takes only a constant offset.
    var transportHeader: (index: FilterValue, offset: UInt32) {
        guard let offsetIndex else { return (.ipHeaderLength(networkOffset), networkOffset) }
        let length = arena.binary(.lsh, arena.binary(.and, packet(.byte, networkOffset), .constant(0xf)), .constant(2))
        // Past `geneve`, the inner Ethernet header's length goes into the index, so that
        // what reads the transport header is the same code after a bare payload too.
        guard afterGeneve, networkOffset != 0 else { return (arena.binary(.add, length, offsetIndex), networkOffset) }
        return (arena.binary(.add, arena.binary(.add, length, offsetIndex), .constant(networkOffset)), 0)
    }

    func ipv4Address(_ address: UInt32, mask: UInt32, _ direction: Direction, protocol name: String?) throws(Failure) -> Predicate {
        func compare(_ source: UInt32, _ destination: UInt32) -> Predicate {
            direction.combine(source: arena.masked(packet(.word, networkOffset + source), mask, address),
                              destination: arena.masked(packet(.word, networkOffset + destination), mask, address), in: arena)
        }
        var ip: Predicate { get throws(Failure) { try arena.and(linkProtocol(0x0800), compare(12, 16)) } }
        var arp: Predicate { get throws(Failure) { try arena.and(linkProtocol(0x0806), compare(14, 24)) } }
        var rarp: Predicate { get throws(Failure) { try arena.and(linkProtocol(0x8035), compare(14, 24)) } }
        switch name {
        // Past MPLS labels only IP is looked for, as in libpcap.
        case nil: return encapsulation == .mpls ? try ip : try arena.or(arena.or(ip, arp), rarp)
        case "ip": return try ip
        case "arp": return try arp
        case "rarp": return try rarp
        default: throw Failure(message: "'\(name ?? "")' does not take IPv4 addresses")
        }
    }

    func ipv6Address(_ words: [UInt32], mask: [UInt32], _ direction: Direction, protocol name: String?) throws(Failure) -> Predicate {
        guard name == nil || name == "ip6" else {
            throw Failure(message: "'\(name ?? "")' does not take IPv6 addresses")
        }
        // The words the mask keeps, all of them: `w0 and (w1 and ...)`, built from the last.
        func compare(_ at: UInt32) -> Predicate {
            var result: Predicate?
            for i in (0..<4).reversed() where mask[i] != 0 {
                let word = arena.masked(packet(.word, networkOffset + at + 4 * UInt32(i)), mask[i], words[i])
                result = result.map { arena.and(word, $0) } ?? word
            }
            return result ?? arena.always(true)
        }
        return try arena.and(linkProtocol(0x86dd), direction.combine(source: compare(8), destination: compare(24), in: arena))
    }

    /// `inbound` and `outbound`: the packet type Linux cooked headers carry (4 is
    /// PACKET_OUTGOING). Other headers say nothing of it in a file; on a live socket the
    /// kernel's ancillary field tells it, as libpcap reads it.
    func packetDirection(outbound: Bool) throws(Failure) -> Predicate {
        try refuseInSavefilePastGeneve("inbound/outbound")
        let packetType: FilterValue
        switch linkType {
        case .sll: packetType = .load(.half, 0)
        case .sll2: packetType = .load(.byte, 10)
        case .ethernet, .raw, .null, .ipv4, .ipv6:
            guard live != nil else { throw Failure(message: "inbound/outbound not supported on \(linkName) when reading savefiles") }
            packetType = .load(.half, AncillaryField.packetType.offset)
        }
        let outgoing = arena.equal(packetType, 4)
        return outbound ? outgoing : arena.not(outgoing)
    }

    /// `ifindex N`: the interface index only Linux cooked v2 headers carry in a file; on a
    /// live socket of other headers the kernel's ancillary field, as libpcap reads it.
    func interfaceIndex(_ index: UInt32) throws(Failure) -> Predicate {
        try refuseInSavefilePastGeneve("ifindex")
        if linkType == .sll2 { return arena.equal(.load(.word, 4), index) }
        guard live != nil else { throw Failure(message: "ifindex not supported on \(linkName) when reading savefiles") }
        return arena.equal(.load(.word, AncillaryField.interfaceIndex.offset), index)
    }

    /// Past `geneve` libpcap takes the link for the inner frame's, Ethernet, whose header
    /// in a savefile says nothing of `primitive`: refused there as libpcap refuses it, though
    /// the outer Linux cooked header tells it.
    private func refuseInSavefilePastGeneve(_ primitive: String) throws(Failure) {
        guard afterGeneve, live == nil else { return }
        throw Failure(message: "\(primitive) not supported on Ethernet when reading savefiles")
    }

    // MARK: Transport layer

    /// `port` and `portrange`: IPv6 first, then unfragmented IPv4, as libpcap orders them.
    func port(_ ports: PortMatch, _ direction: Direction, protocol name: String?) throws(Failure) -> Predicate {
        // The transport protocol's number, or nil for any of SCTP, TCP and UDP.
        let number: UInt32? = switch name {
        case nil: nil
        case "tcp": 6
        case "udp": 17
        case "sctp": 132
        default: throw Failure(message: "'\(name ?? "")' has no ports; use tcp, udp or sctp")
        }
        if number == nil { arena.hasPortWithoutProtocol = true } else { arena.testsIPProtocol = true }
        if number == nil, layout == .shared { arena.laidOutUnlikeLibpcap = true }
        func carries(_ next: FilterValue) -> Predicate {
            if let number { return arena.equal(next, number) }
            return arena.or(arena.equal(next, 132), arena.or(arena.equal(next, 6), arena.equal(next, 17)))
        }
        func matches(_ port: FilterValue) -> Predicate {
            switch ports {
            case .single(let k): arena.equal(port, k)
            case .range(let low, let high): arena.and(arena.compare(port, .ge, low), arena.not(arena.compare(port, .gt, high)))
            }
        }
        func matchesPorts(_ source: FilterValue, _ destination: FilterValue) -> Predicate {
            direction.combine(source: matches(source), destination: matches(destination), in: arena)
        }
        // Each header's ports read where they are added, after what guards them.
        func ip6Ports() -> Predicate { matchesPorts(packet(.half, networkOffset + 40), packet(.half, networkOffset + 42)) }
        func ipPorts(_ transport: (index: FilterValue, offset: UInt32)) -> Predicate {
            matchesPorts(arena.loadIndexed(.half, index: transport.index, transport.offset),
                         arena.loadIndexed(.half, index: transport.index, transport.offset + 2))
        }
        let ip6, ip: Predicate
        if portsPerProtocol, number == nil {
            // Once for each of SCTP, TCP and UDP, as libpcap lays it out: what follows may
            // then be decided per protocol (and skip the ports' loads where libpcap's does).
            func perProtocol(_ next: FilterValue, _ body: Predicate) -> Predicate {
                arena.or(arena.and(arena.equal(next, 132), body),
                         arena.or(arena.and(arena.equal(next, 6), body), arena.and(arena.equal(next, 17), body)))
            }
            ip6 = try arena.and(linkProtocol(0x86dd), perProtocol(packet(.byte, networkOffset + 6), ip6Ports()))
            let transport = transportHeader
            ip = try arena.and(linkProtocol(0x0800), perProtocol(packet(.byte, networkOffset + 9), arena.and(firstFragment, ipPorts(transport))))
        } else {
            // The ports tested once, for whichever protocol.
            ip6 = try arena.and(arena.and(linkProtocol(0x86dd), carries(packet(.byte, networkOffset + 6))), ip6Ports())
            let transport = transportHeader
            ip = try arena.and(arena.and(arena.and(linkProtocol(0x0800), carries(packet(.byte, networkOffset + 9))), firstFragment),
                               ipPorts(transport))
        }
        return arena.or(ip6, ip)
    }

    // MARK: Packet data

    /// Where `name[...]` indexes from, and what must hold for that header to be there.
    func dataBase(_ name: String) throws(Failure) -> (guard: Predicate, index: FilterValue?, offset: UInt32) {
        switch name {
        case "ether", "link", "fddi", "tr", "wlan", "ppp", "slip":
            if let innerFrame { return (arena.always(true), .scratch(innerFrame.payload), 0) }
            return (arena.always(true), nil, 0)
        case "ip", "arp", "rarp", "atalk", "decnet", "sca", "lat", "mopdl", "moprc":
            return (try protocolKeyword(name), offsetIndex, networkOffset)
        case "ip6":
            return (try linkProtocol(0x86dd), offsetIndex, networkOffset)
        case "tcp", "udp", "sctp", "icmp", "igmp", "igrp", "pim", "vrrp", "carp":
            let number = FilterNames.ipProtocols[name] ?? 0
            let transport = transportHeader
            let carried: Predicate
            if layout == .libpcap {
                // libpcap tests IPv4, then the protocol as its keyword does (IPv6 too, for TCP).
                carried = try arena.and(linkProtocol(0x0800), protocolKeyword(name))
            } else {
                arena.laidOutUnlikeLibpcap = true
                carried = try ipProtocol(number)
            }
            return (arena.and(carried, firstFragment), transport.index, transport.offset)
        case "icmp6":
            let next = packet(.byte, networkOffset + 6)
            return (try arena.and(linkProtocol(0x86dd), arena.equal(next, 58)), offsetIndex, networkOffset + 40)
        default:
            throw Failure(message: "'\(name)[...]' is not supported")
        }
    }
}

/// How primitives that can be laid out more than one way are built.
enum FilterLayout: Sendable {
    /// A `port` without a protocol tests its ports once for SCTP, TCP and UDP.
    case shared
    /// Such a port is laid out once per protocol, as libpcap lays it out.
    case portsPerProtocol
    /// As libpcap's unoptimized program, as far as its optimizer's refusals depend on it
    /// (`GraphOptimizer.provesFalseLikeLibpcap`): ports per protocol, and the data of a
    /// transport header (`tcp[13]`) guarded by IPv4 and then the protocol's keyword, whose
    /// IPv6 side libpcap's optimizer removes only in a later pass, and the protocol of a raw
    /// IPv4 or IPv6 link tested as libpcap tests it, on a constant.
    case libpcap
}

/// What `port` or `portrange` matches.
enum PortMatch: Sendable {
    case single(UInt32)
    /// From the first to the second, both included.
    case range(UInt32, UInt32)
}

/// `src`, `dst`, and their combinations; no qualifier means either.
enum Direction: Sendable {
    case source, destination, either, both

    func combine(source: Predicate, destination: Predicate, in arena: PredicateArena) -> Predicate {
        switch self {
        case .source: source
        case .destination: destination
        case .either: arena.or(source, destination)
        case .both: arena.and(source, destination)
        }
    }
}
