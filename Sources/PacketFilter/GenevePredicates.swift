import BPFInstructions
import ClassicBPF

/// How what follows a `geneve` reads the packet, in one parse of the expression.
///
/// libpcap keeps the inner frame's offsets in scratch words, set when `geneve` holds: the
/// payload starts past the UDP header, the Geneve header's 8 bytes and its options (4 times
/// the low 6 bits of its first byte). With Geneve's protocol type 0x6558 an inner Ethernet
/// header starts there; otherwise the payload is the network header and Geneve's protocol
/// type field stands for the EtherType. Predicates are pure, so each case is a parse of its
/// own, with run-time offsets that are values of the packet (see `GeneveForms`).
enum GeneveVariant: CaseIterable, Sendable {
    /// `geneve` not evaluated, or false: libpcap reads the scratch words it did not write,
    /// which hold 0 (in the kernel and in our interpreter), so from the packet's start.
    case notMatched
    case ipv4Ethernet, ipv4Payload, ipv6Ethernet, ipv6Payload
}

/// A `geneve` of an expression: its test, and the tests that pick the variant.
struct GenevePrimitive: Sendable {
    var test: Predicate
    var overIPv4: Predicate
    var overIPv6: Predicate
    /// Geneve's protocol type is Ethernet (0x6558), over IPv4 and over IPv6.
    var ethernetInIPv4: Predicate
    var ethernetInIPv6: Predicate
    /// Always true, but reads the protocol type: libpcap does once `geneve` holds, so a
    /// packet cut short before it is dropped even where what follows cannot tell.
    var protocolTypeInIPv4: Predicate
    var protocolTypeInIPv6: Predicate
}

/// `geneve [VNI]`: UDP to port 6081 with a Geneve version 0 header (RFC 8926), over IPv4 or IPv6.
/// A second `geneve` reads inside the first one's payload, as libpcap's does.
extension PredicateBuilder {
    static let genevePort: UInt32 = 6081
    static let transparentEthernetBridging: UInt32 = 0x6558

    mutating func geneve(_ vni: UInt32?) throws(Failure) -> Predicate {
        if let vni, vni > 0xff_ffff { throw Failure(message: "Geneve VNI \(vni) is greater than the maximum 16777215") }
        let level = genevesSeen
        // Each level branched on multiplies the parses by five (`GeneveForms`).
        guard level < 2 else { throw Failure(message: "at most two geneve can be in one expression (libpcap reads each inside the one before)") }
        genevesSeen += 1
        arena.genevesWritten = max(arena.genevesWritten, genevesSeen)
        let variants = arena.geneveVariants
        // Every parse that reads the same way up to this `geneve` builds the same outer
        // tests: built once, in the first.
        let reading = GeneveReading(level: level, before: Array(variants.prefix(level)), vni: vni)
        var built: GeneveOuter?
        for entry in arena.geneveOuters where entry.reading == reading { built = entry.outer }
        let outer: GeneveOuter
        if let built {
            outer = built
        } else {
            outer = try geneveOuter(vni)
            arena.geneveOuters.append((reading, outer))
        }
        let test = outer.primitive.test
        // One past the level branched on is only its test, read where the one before left the offsets.
        guard level <= variants.count else { return test }
        afterGeneve = true
        // Built again where the parser backtracks: the last one stands.
        if level < arena.geneves.count { arena.geneves[level] = outer.primitive } else { arena.geneves.append(outer.primitive) }
        encapsulation = .plain
        let (overIPv4, ethernet): (Bool, Bool)
        switch level < variants.count ? variants[level] : .notMatched {
        case .notMatched:
            // Past a second geneve, 0 in X: read there, the packet's start is not what the
            // outer headers' tests read, so the code is the same past IPv4 and IPv6 ones.
            let start: FilterValue? = level > 0 ? .indexConstant(0) : nil
            (offsetIndex, linkTypeIndex, etherTypeOffset, networkOffset) = (start, start, 0, 0)
            innerLinkHeader = InnerLinkHeader(index: start, offset: 0, isEthernet: false)
            return test
        case .ipv4Ethernet: (overIPv4, ethernet) = (true, true)
        case .ipv4Payload: (overIPv4, ethernet) = (true, false)
        case .ipv6Ethernet: (overIPv4, ethernet) = (false, true)
        case .ipv6Payload: (overIPv4, ethernet) = (false, false)
        }
        let start = overIPv4 ? outer.payload4 : outer.payload6
        // Without an inner Ethernet header, Geneve's protocol type stands for the EtherType.
        let protocolType = overIPv4 ? outer.protocolType4 : outer.protocolType6
        linkTypeIndex = ethernet ? start : protocolType.index
        etherTypeOffset = ethernet ? 12 : protocolType.offset
        (offsetIndex, networkOffset) = (start, ethernet ? 14 : 0)
        innerLinkHeader = InnerLinkHeader(index: start, offset: 0, isEthernet: ethernet)
        arena.pastGeneve = (arena.parts.count, arena.values.count)
        return test
    }

    /// The tests of `geneve` and where its payload and protocol type are, read from the
    /// outer headers as the builder stands.
    private func geneveOuter(_ vni: UInt32?) throws(Failure) -> GeneveOuter {
        /// The header `at` the UDP header: version 0 in the top bits of its first byte, the
        /// VNI in the top three bytes of its second word.
        func header(_ load: (LoadSize, UInt32) -> FilterValue) -> Predicate {
            let version = arena.masked(load(.byte, 8), 0xc0, 0)
            guard let vni else { return version }
            return arena.and(version, arena.masked(load(.word, 12), 0xffff_ff00, vni << 8))
        }
        let network = networkOffset
        let (index, transport) = transportHeader
        func udp4(_ size: LoadSize, _ offset: UInt32) -> FilterValue { arena.loadIndexed(size, index: index, transport + offset) }
        // Over IPv6 without a run-time offset, 40 in X makes the code past it IPv4's.
        let (index6, network6): (FilterValue?, UInt32) = offsetIndex == nil && arena.geneveIPv6Indexed ? (.indexConstant(40), network) : (offsetIndex, network + 40)
        func udp6(_ size: LoadSize, _ offset: UInt32) -> FilterValue {
            guard let index6 else { return .load(size, network6 + offset) }
            return arena.loadIndexed(size, index: index6, network6 + offset)
        }
        let ip = try arena.and(arena.and(arena.and(ipProtocol(17), firstFragment), arena.equal(udp4(.half, 2), Self.genevePort)),
                               header(udp4))
        let ip6 = try arena.and(arena.and(arena.and(linkProtocol(0x86dd), arena.equal(packet(.byte, network + 6), 17)),
                                          arena.equal(udp6(.half, 2), Self.genevePort)),
                                header(udp6))
        // Past the UDP header, the Geneve header and its options: `saved`, computed before
        // the protocol type picks the inner frame's layout, so that the code past it reads
        // it back and is the same text over IPv4 and IPv6.
        func payload(_ firstByte: FilterValue, _ start: FilterValue?, _ end: UInt32) -> FilterValue {
            var past = arena.binary(.lsh, arena.binary(.and, firstByte, .constant(0x3f)), .constant(2))
            if let start { past = arena.binary(.add, past, start) }
            return arena.numbered(.saved(arena.binary(.add, past, .constant(end))))
        }
        let payload4 = payload(udp4(.byte, 8), index, transport + 16)
        let payload6 = payload(udp6(.byte, 8), index6, network6 + 16)
        let (type4, type6) = (udp4(.half, 10), udp6(.half, 10))
        // The protocol type's indexes numbered, as the payloads are: a parse past a bare
        // payload over IPv4 is then copied for IPv6 with both replaced (`GeneveForms.overIPv6`).
        // No `Optional.map`: its closure could clobber this typed-throws function's error (Swift 6.3).
        let typeIndex4 = arena.numbered(index)
        var typeIndex6: FilterValue?
        if let index6 { typeIndex6 = arena.numbered(index6) }
        let primitive = GenevePrimitive(
            test: arena.or(ip, ip6), overIPv4: ip, overIPv6: ip6,
            ethernetInIPv4: arena.equal(.after(payload4, type4), Self.transparentEthernetBridging),
            ethernetInIPv6: arena.equal(.after(payload6, type6), Self.transparentEthernetBridging),
            protocolTypeInIPv4: arena.masked(type4, 0xffff_0000, 0),
            protocolTypeInIPv6: arena.masked(type6, 0xffff_0000, 0))
        return GeneveOuter(primitive: primitive, payload4: payload4, payload6: payload6,
                           protocolType4: (typeIndex4, transport + 10), protocolType6: (typeIndex6, network6 + 10))
    }
}

/// Which `geneve` a parse reads, and how it reads past the ones before it: parses that
/// agree on these build the same outer tests for it.
struct GeneveReading: Equatable {
    var level: Int
    var before: [GeneveVariant]
    var vni: UInt32?
}

/// What `geneve` reads in the outer headers: its tests, the start of its payload over IPv4
/// and over IPv6 (run-time values), and where its protocol type is.
struct GeneveOuter {
    var primitive: GenevePrimitive
    var payload4: FilterValue
    var payload6: FilterValue
    var protocolType4: (index: FilterValue?, offset: UInt32)
    var protocolType6: (index: FilterValue?, offset: UInt32)
}

/// Expressions in which something follows `geneve`: one parse per `GeneveVariant`, joined
/// where that `geneve` is evaluated; where something follows a second `geneve` too, each
/// of those is itself joined where the second is evaluated.
enum GeneveForms {
    /// The predicate of `expression`; a plain parse when nothing follows a `geneve`.
    static func parse(_ expression: String, linkType: FilterLinkType, fileByteOrder: ByteOrder? = nil, live: LiveForm? = nil,
                      resolver: (any FilterNameResolver)?, arena: PredicateArena = PredicateArena()) throws(FilterError) -> PredicateTree {
        arena.geneves = []
        let tokens = try FilterLexer.tokenize(expression)
        let plain = try FilterParser.parse(tokens: tokens, linkType: linkType, fileByteOrder: fileByteOrder, live: live, resolver: resolver,
                                           arena: arena)
        guard arena.followsGeneve, !arena.geneves.isEmpty else { return plain }
        arena.reserve(parses: GeneveVariant.allCases.count)
        let parse = Parse(tokens: tokens, linkType: linkType, fileByteOrder: fileByteOrder, live: live, resolver: resolver,
                          followed: arena.followedGeneves)
        // With one `geneve`, the plain parse reads past it as `.notMatched` does: that
        // variant's parse, not done again.
        let notMatched = arena.genevesWritten == 1 ? (root: plain.root, geneves: arena.geneves) : nil
        return PredicateTree(arena: arena, root: try branched([], parse, in: arena, notMatched: notMatched).root)
    }

    /// What every parse of one expression takes.
    struct Parse {
        var tokens: [FilterToken]
        var linkType: FilterLinkType
        var fileByteOrder: ByteOrder?
        var live: LiveForm?
        var resolver: (any FilterNameResolver)?
        /// How many `geneve`s something follows: those are branched on.
        var followed: Int
    }

    /// The predicate in which the `geneve`s before `prefix.count` read as `prefix` says,
    /// branched on the next one; and the `geneve`s before that on its path, those of the
    /// parse it starts in (the first variant's: see `ParseVariants`).
    static func branched(_ prefix: [GeneveVariant], _ parse: Parse, in arena: PredicateArena,
                         notMatched: (root: Predicate, geneves: [GenevePrimitive])? = nil) throws(FilterError)
        -> (root: Predicate, geneves: [GenevePrimitive]) {
        let level = prefix.count
        var roots: [Predicate] = [], targets: [Predicate] = [], firsts: [GenevePrimitive] = [], base: [GenevePrimitive] = []
        // Room for every variant at once: growing each costs more than the rest of the loop.
        roots.reserveCapacity(GeneveVariant.allCases.count)
        targets.reserveCapacity(GeneveVariant.allCases.count)
        firsts.reserveCapacity(GeneveVariant.allCases.count)
        // The parses over IPv4, with an inner Ethernet header and without, for those over IPv6.
        var overIPv4: (ethernet: OverIPv4?, payload: OverIPv4?) = (nil, nil)
        var variants = prefix + [.notMatched]
        for variant in GeneveVariant.allCases {
            variants[level] = variant
            var child: (root: Predicate, geneves: [GenevePrimitive])
            let ethernet = variant == .ipv6Ethernet
            if variant == .notMatched, let notMatched {
                child = notMatched
            } else if ethernet || variant == .ipv6Payload, prefix.isEmpty, let source = ethernet ? overIPv4.ethernet : overIPv4.payload,
                      let root = overIPv6(source, ethernet: ethernet, parse, in: arena) {
                child = (root: root, geneves: source.geneves)
            } else {
                arena.geneves = []
                let tree = try FilterParser.parse(tokens: parse.tokens, linkType: parse.linkType, fileByteOrder: parse.fileByteOrder,
                                                  live: parse.live, geneve: variants, resolver: parse.resolver, arena: arena)
                child = (root: tree.root, geneves: arena.geneves)
                let parsed = OverIPv4(root: child.root, geneves: child.geneves, past: arena.pastGeneve)
                if variant == .ipv4Ethernet { overIPv4.ethernet = parsed }
                if variant == .ipv4Payload { overIPv4.payload = parsed }
            }
            if parse.followed > variants.count, child.geneves.count > variants.count { child = try branched(variants, parse, in: arena) }
            guard child.geneves.count > level else { break }
            if base.isEmpty { base = child.geneves }
            roots.append(child.root)
            targets.append(child.geneves[level].test)
            firsts.append(child.geneves[level])
        }
        // Every parse reads the same words: a difference is a bug, reported rather than trapped.
        guard firsts.count == GeneveVariant.allCases.count,
              let variants = ParseVariants(roots: roots, targets: targets, in: arena) else {
            throw FilterError(offset: 0, message: "internal error: the parses of the geneve filter differ")
        }
        return (joined(variants, firsts[0], in: arena), base)
    }

    /// A parse over IPv4 and where what it built past the one `geneve` starts.
    struct OverIPv4 {
        var root: Predicate
        var geneves: [GenevePrimitive]
        var past: (parts: Int, values: Int)
    }

    /// The parse of `.ipv6Ethernet` or `.ipv6Payload` made from that of `.ipv4Ethernet` or
    /// `.ipv4Payload`, without parsing again: past the one `geneve`, the inner frame reads
    /// the same over IPv4 and IPv6 but for where its payload starts and, without an inner
    /// Ethernet header, what indexes the protocol type: run-time values of each
    /// (`GeneveOuter`). So what that parse built past it is built again with IPv6's. Nil
    /// where that does not hold: more `geneve`s, a live socket's forms, values that nest
    /// differently (arithmetic may then be refused in one), a protocol type at another
    /// offset or not indexed (see `PredicateArena.geneveIPv6Indexed`), protochain.
    static func overIPv6(_ overIPv4: OverIPv4, ethernet: Bool, _ parse: Parse, in arena: PredicateArena) -> Predicate? {
        guard parse.live == nil, arena.genevesWritten == 1, parse.followed == 1 else { return nil }
        var outer: GeneveOuter?
        for entry in arena.geneveOuters where entry.reading.level == 0 { outer = entry.outer }
        guard let outer, let payload = sameNesting(outer.payload4, outer.payload6) else { return nil }
        guard !ethernet else { return arena.copy(since: overIPv4.past, root: overIPv4.root, replacing: payload) }
        guard outer.protocolType4.offset == outer.protocolType6.offset, let index4 = outer.protocolType4.index,
              let index6 = outer.protocolType6.index, let index = sameNesting(index4, index6) else { return nil }
        return arena.copy(since: overIPv4.past, root: overIPv4.root, replacing: payload, and: index)
    }

    /// The numbers of two numbered values that nest as deeply, the IPv4 one's first.
    private static func sameNesting(_ ipv4: FilterValue, _ ipv6: FilterValue) -> (old: Int32, new: Int32)? {
        guard case .numbered(let old, let depth4) = ipv4, case .numbered(let new, let depth6) = ipv6, depth4 == depth6 else { return nil }
        return (old, new)
    }

    /// The predicate of `expression` with the other way of reading past `geneve` over IPv6
    /// (see `PredicateArena.geneveIPv6Indexed`), where it may be shorter: 40 in X shares the
    /// code past the UDP header with IPv4 unless that code reloads X to read Geneve's
    /// protocol type again (past a `vlan` in a bare payload), which then differs over IPv4
    /// and IPv6 and takes two copies. Both are compiled, as either can be shorter.
    static func otherLayout(of tree: PredicateTree, _ expression: String, linkType: FilterLinkType, fileByteOrder: ByteOrder? = nil,
                            live: LiveForm? = nil, resolver: (any FilterNameResolver)?) -> PredicateTree? {
        guard tree.arena.followsGeneve, tree.arena.vlanFollowsGeneve else { return nil }
        let arena = PredicateArena()
        arena.geneveIPv6Indexed = !tree.arena.geneveIPv6Indexed
        return try? parse(expression, linkType: linkType, fileByteOrder: fileByteOrder, live: live, resolver: resolver, arena: arena)
    }

    /// At the first `geneve`, the variant the packet is in: the order of `GeneveVariant`.
    /// Out of line: a closure in the typed-throws caller could clobber its error (Swift 6.3).
    @inline(never)
    static func joined(_ variants: ParseVariants, _ geneve: GenevePrimitive, in arena: PredicateArena) -> Predicate {
        /// Whichever of `ethernet` and `payload` the protocol type picks; when both are the
        /// same verdict, that verdict once the protocol type is read.
        func inner(_ isEthernet: Predicate, _ ethernet: Predicate, _ payload: Predicate, reading read: Predicate) -> Predicate {
            if case .always(let a) = arena.parts[Int(ethernet.index)], case .always(let b) = arena.parts[Int(payload.index)], a == b {
                return arena.and(read, ethernet)
            }
            return arena.choose(isEthernet, ethernet, payload)
        }
        return variants.joined(in: arena) { t, f in
            arena.choose(geneve.overIPv4, inner(geneve.ethernetInIPv4, t[1], t[2], reading: geneve.protocolTypeInIPv4),
                         arena.choose(geneve.overIPv6, inner(geneve.ethernetInIPv6, t[3], t[4], reading: geneve.protocolTypeInIPv6), f[0]))
        }
    }
}
