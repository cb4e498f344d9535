import BPFInstructions
import ClassicBPF

/// The scratch words in which a `geneve` keeps where its inner frame is, as libpcap does
/// (gencode.c's gen_geneve_offsets): what follows reads through them, so it is built once
/// whatever the outer IP version, the Geneve options' length and the inner frame's kind.
/// Each level has words of its own, below the one a `saved` value takes.
struct GeneveWords: Sendable {
    /// The inner link-type field: Geneve's protocol type, or an inner Ethernet header's EtherType.
    var linkType: UInt32
    /// The payload, past the Geneve header and its options: the inner link header.
    var payload: UInt32
    /// The inner network header: the payload, or past an inner Ethernet header.
    var network: UInt32

    /// How many levels fit below the `saved` value's word.
    static let levels = Int(FilterValue.savedScratch) / 3

    init(level: Int) {
        let top = FilterValue.savedScratch - 1 - 3 * UInt32(level)
        (linkType, payload, network) = (top, top - 1, top - 2)
    }
}

/// `geneve [VNI]`: UDP to port 6081 with a Geneve version 0 header (RFC 8926), over IPv4 or IPv6.
/// A second `geneve` reads inside the first one's payload, as libpcap's does.
extension PredicateBuilder {
    static let genevePort: UInt32 = 6081
    static let transparentEthernetBridging: UInt32 = 0x6558

    mutating func geneve(_ vni: UInt32?) throws(Failure) -> Predicate {
        if let vni, vni > 0xff_ffff { throw Failure(message: "Geneve VNI \(vni) is greater than the maximum 16777215") }
        let level = genevesSeen
        // Three words a level below the `saved` value's, as libpcap allocates three
        // registers per `geneve` of its 16: a sixth finds none ("too many registers").
        guard level < GeneveWords.levels else {
            throw Failure(message: "at most \(GeneveWords.levels) geneve can be in one expression: each keeps 3 of the 16 scratch words")
        }
        genevesSeen += 1
        arena.genevesWritten = max(arena.genevesWritten, genevesSeen)
        let words = GeneveWords(level: level)
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
        let (index6, network6): (FilterValue, UInt32) = if let offsetIndex { (offsetIndex, network + 40) } else { (.indexConstant(40), network) }
        func udp6(_ size: LoadSize, _ offset: UInt32) -> FilterValue { arena.loadIndexed(size, index: index6, network6 + offset) }
        let ip = try arena.and(arena.and(arena.and(ipProtocol(17), firstFragment), arena.equal(udp4(.half, 2), Self.genevePort)),
                               header(udp4))
        let ip6 = try arena.and(arena.and(arena.and(linkProtocol(0x86dd), arena.equal(packet(.byte, network + 6), 17)),
                                          arena.equal(udp6(.half, 2), Self.genevePort)),
                                header(udp6))
        // With an inner Ethernet header, the link-type field and network header are past it,
        // wherever the payload is. Whatever the test finds, the stores go on: both exits lead
        // where `geneve` holds. `or` folds no verdict here, and the graph keeps a test that
        // stores whatever its exits (`DecisionGraph.node`): the stores cannot vanish.
        let etherType = arena.store(words.linkType, arena.binary(.add, .scratch(words.payload), .constant(12)))
        let ethernet = arena.or(arena.equal(arena.store(words.network, arena.binary(.add, etherType, .constant(2))), 0), arena.always(true))
        let test = arena.or(arena.and(ip, innerOffsets(index, transport, words, ethernet: ethernet)),
                            arena.and(ip6, innerOffsets(index6, network6, words, ethernet: ethernet)))
        // libpcap keeps an MPLS label stack's state past it (what follows tests the bottom
        // label before the inner frame); PPPoE's it reads otherwise, not followed here.
        if encapsulation == .pppoe { encapsulation = .plain }
        (linkTypeIndex, etherTypeOffset) = (.scratch(words.linkType), 0)
        (offsetIndex, networkOffset) = (.scratch(words.network), 0)
        innerFrame = words
        return test
    }

    /// Once `geneve` holds, the stores of where its inner frame is, for the UDP header at
    /// `index + udp`: always true, but a packet cut before Geneve's protocol type is dropped,
    /// as libpcap reads it there. Without an inner Ethernet header (protocol type 0x6558,
    /// then `ethernet` moves them), the payload is the network header and the protocol type
    /// stands for the EtherType.
    private func innerOffsets(_ index: FilterValue, _ udp: UInt32, _ words: GeneveWords, ethernet: Predicate) -> Predicate {
        // The constant first: `ld #k; add x`, as X holds the index.
        let protocolTypeAt = arena.binary(.add, .constant(udp + 10), index)
        let options = arena.binary(.lsh, arena.binary(.and, arena.loadIndexed(.byte, index: index, udp + 8), .constant(0x3f)), .constant(2))
        let payload = arena.binary(.add, arena.binary(.add, options, index), .constant(udp + 16))
        let protocolType = arena.after(arena.store(words.linkType, protocolTypeAt),
                                       arena.after(arena.store(words.payload, arena.store(words.network, payload)),
                                                   arena.loadIndexed(.half, index: index, udp + 10)))
        return arena.choose(arena.equal(protocolType, Self.transparentEthernetBridging), ethernet, arena.always(true))
    }

    /// Past `geneve`, whether the inner frame has an Ethernet header: libpcap tells by its
    /// network header not starting at the payload. Nil elsewhere.
    var innerEthernet: Predicate? {
        guard let innerFrame else { return nil }
        return arena.not(arena.test(FilterTest(value: .scratch(innerFrame.payload), condition: .eq, operand: .scratch(innerFrame.network))))
    }
}
