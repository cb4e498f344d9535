import ClassicBPF
import PacketFilter
import TestPeers
import Testing

/// `geneve` followed by primitives against libpcap's programs (`tcpdump -ddd -y DLT`), both
/// run in `ClassicInterpreter` over the corpus's packets and crafted Geneve packets: over
/// IPv4 (with and without IP options) and IPv6, with options of several lengths, an inner
/// Ethernet frame or a bare IP payload, Geneve inside Geneve, and cut short at several places.
@Suite("Geneve followed by primitives") struct GeneveFilterTests {
    static let expressions = [
        "geneve and ip", "geneve and ip6", "geneve and tcp", "geneve and udp", "geneve and tcp port 80",
        "geneve 5 and udp port 53", "geneve 7 and tcp", "geneve and host 10.0.0.1", "geneve and ip host 10.0.0.1",
        "geneve and src net 10.0.0.0/8", "geneve and ip6 host fd00::1", "geneve and not tcp", "geneve and not ip host 10.0.0.2",
        "geneve or ip", "geneve or tcp port 80", "not geneve and ip", "geneve and arp", "geneve and vlan", "geneve and vlan 5 and ip",
        "geneve and ip[9] = 6", "geneve and tcp[13] & 2 != 0", "udp and geneve and udp port 53", "(geneve and tcp) or udp port 53",
        "geneve and portrange 50-90", "geneve and icmp", "geneve and ip6 and udp", "geneve and stp", "geneve and ipx",
        "geneve and mpls", "geneve and ip and len > 100", "geneve and ether host 02:00:00:00:00:01", "geneve and ether src 02:00:00:00:00:02",
        "geneve and ether broadcast", "geneve and ether multicast", "geneve and ether[0] = 2", "geneve and ether[12:2] = 0x800",
        "geneve and llc", "geneve and geneve", "geneve and geneve and ip", "geneve and geneve 5 and tcp port 80",
        "geneve or geneve", "geneve and (geneve or ip)", "geneve and geneve and ether host 02:00:00:00:00:01",
        // libpcap keeps an MPLS label stack's state past geneve.
        "mpls and geneve and ip", "(mpls and not geneve) or not icmp6",
        // Deeper levels: each keeps three scratch words, libpcap refuses a sixth.
        "geneve and geneve and vlan 5 and ip", "geneve and geneve and vlan and tcp port 80", "geneve and vlan and geneve and ip",
        "geneve and geneve and geneve", "geneve and geneve and geneve and tcp port 80", "geneve and geneve 7 and geneve 5 and ip",
        "geneve and geneve and geneve and geneve and geneve and ip",
        "geneve and geneve and geneve and geneve and geneve and geneve and ip",
    ]

    // MARK: Crafted packets (built by `GenevePackets`)

    /// `ip` under `linkType`'s header (with its EtherType or family for IPv4 or IPv6).
    static func framed(_ ip: [UInt8], _ linkType: FilterLinkType) -> [UInt8] {
        let isIPv6 = ip.first.map { $0 >> 4 == 6 } ?? false
        let type: UInt16 = isIPv6 ? 0x86dd : 0x0800
        let typeBytes = [UInt8(type >> 8), UInt8(type & 0xff)]
        switch linkType {
        case .ethernet: return GenevePackets.ethernet(type, ip)
        // Raw IPv4 and IPv6 links read no version: any IP packet is framed as it is.
        case .raw, .ipv4, .ipv6: return ip
        case .null: return [isIPv6 ? 10 : 2, 0, 0, 0] + ip
        case .sll: return [0, 0, 0, 1, 0, 6, 2, 0, 0, 0, 0, 1, 0, 0] + typeBytes + ip
        case .sll2: return typeBytes + [0, 0, 0, 0, 0, 2, 0, 1, 0, 6, 2, 0, 0, 0, 0, 1, 0, 0] + ip
        }
    }

    /// Every crafted packet for `linkType`, whole and cut short: inside the Geneve header,
    /// inside its options, and in the inner headers.
    static func crafted(_ linkType: FilterLinkType) -> [[UInt8]] {
        var packets: [[UInt8]] = []
        for ip in GenevePackets.outerPackets {
            let whole = framed(ip, linkType)
            packets.append(whole)
            for cut in [whole.count - 1, whole.count - 14, whole.count - 30, whole.count / 2, whole.count / 3] where cut > 0 {
                packets.append(Array(whole[..<cut]))
            }
        }
        return packets
    }

    // MARK: The comparison

    /// libpcap's program with its scratch words set to 0 first: where `geneve` is false it
    /// reads words it never wrote, which the kernel's checks refuse and our interpreter
    /// (like the 0 our filters read from there) takes as 0. Jumps are relative, so the
    /// added instructions move none of them.
    static func zeroingScratch(_ raw: [RawClassicInstruction]) throws -> ClassicProgram {
        var instructions: [ClassicInstruction] = [.loadA(.constant(0))]
        for word in 0..<UInt32(ClassicOpcode.scratchWords) { instructions.append(.storeA(scratch: word)) }
        return try ClassicProgram(instructions.map(\.raw) + raw)
    }

    @Test("geneve followed by primitives keeps what libpcap's program keeps, on crafted and corpus packets")
    func agreesWithLibpcap() throws {
        guard let tcpdump = FilterTestSupport.tcpdump() else { return }
        let corpus = FilterTestSupport.requireCorpus()
        var compared = 0, libpcapOptimizerDiffers = 0
        var (shorter, equal) = (0, 0)
        var longer: [String] = []
        var lengths: [String] = []
        for linkType in FilterLinkType.allCases {
            let packets = Self.crafted(linkType) + (corpus?.files ?? []).filter { $0.linkType == linkType }.flatMap { $0.packets.map(\.data) }
            for expression in Self.expressions {
                let label = "-y \(linkType.dataLinkName) '\(expression)'"
                guard case .program(let theirsRaw) = FilterTestSupport.libpcap(tcpdump, expression, linkType),
                      case .program(let unoptimizedRaw) = FilterTestSupport.libpcap(tcpdump, expression, linkType, optimized: false) else {
                    // What libpcap refuses (`vlan` on raw IP...), we refuse too.
                    #expect(throws: FilterError.self, "\(label): libpcap refuses, we compile") {
                        try PacketFilter.compile(expression, linkType: linkType)
                    }
                    continue
                }
                let reference = ClassicInterpreter(program: try Self.zeroingScratch(unoptimizedRaw))
                let optimized = ClassicInterpreter(program: try Self.zeroingScratch(theirsRaw))
                let program = try PacketFilter.compile(expression, linkType: linkType)
                let ours = [program, try PacketFilter.compile(expression, linkType: linkType, optimize: false)].map(ClassicInterpreter.init)
                for packet in packets {
                    let expected = reference.run(packet: packet)
                    if optimized.run(packet: packet) != expected { libpcapOptimizerDiffers += 1 }
                    for (form, interpreter) in zip(["optimized", "unoptimized"], ours) {
                        let got = interpreter.run(packet: packet)
                        #expect(got == expected, "\(label) (\(form)) on \(packet): libpcap returns \(expected), ours \(got)")
                    }
                    compared += 1
                }
                switch program.instructions.count - theirsRaw.count {
                case ..<0: shorter += 1
                case 0: equal += 1
                default: longer.append("\(label): \(program.instructions.count) instructions, libpcap's \(theirsRaw.count)")
                }
                if linkType == .ethernet { lengths.append("\(expression) \(program.instructions.count)/\(theirsRaw.count)") }
            }
        }
        print("geneve filters: \(Self.expressions.count) expressions on \(FilterLinkType.allCases.count) link types, \(compared) packets compared with libpcap's unoptimized programs; libpcap's optimized programs differ from them on \(libpcapOptimizerDiffers)")
        print("geneve filter length vs libpcap: \(shorter) shorter, \(equal) equal, \(longer.count) longer; on Ethernet, ours/libpcap's: \(lengths.joined(separator: ", "))")
        // Issue 6: no longer than libpcap's optimized program.
        #expect(longer.isEmpty, "longer than libpcap's: \(longer.joined(separator: "; "))")
    }

    @Test("what cannot follow geneve is refused with a reason")
    func refusals() {
        #expect(throws: FilterError.self) { try PacketFilter.compile("geneve and ip protochain 6") }
        #expect(throws: FilterError.self) { try PacketFilter.compile("geneve and geneve and geneve and geneve and geneve and geneve") }
        // Five levels keep 15 words: none is left for arithmetic (libpcap: "too many registers").
        let error = #expect(throws: FilterError.self) {
            try PacketFilter.compile("geneve and geneve and geneve and geneve and geneve and tcp[tcp[0] + tcp[1]] = 1")
        }
        #expect(error?.message.contains("more than the 0 scratch words that geneve and vlan leave free") == true, "\(String(describing: error))")
        #expect(throws: FilterError.self) { try PacketFilter.compileForSocket("vlan and geneve and ip") }
    }

    @Test("on a live socket without vlan, what follows geneve reads as in a file")
    func liveSocket() throws {
        for linkType in FilterLinkType.allCases {
            for expression in Self.expressions where !expression.contains("vlan") {
                guard let file = try? PacketFilter.compile(expression, linkType: linkType) else { continue }
                #expect(try PacketFilter.compileForSocket(expression, linkType: linkType) == file, "-y \(linkType.dataLinkName) '\(expression)'")
            }
        }
    }
}
