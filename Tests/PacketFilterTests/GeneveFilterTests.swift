import ClassicBPF
import PacketFilter
import Testing

/// `geneve` followed by primitives against libpcap's programs (`tcpdump -ddd -y DLT`), both
/// run in `ClassicInterpreter` over the corpus's packets and crafted Geneve packets: over
/// IPv4 (with and without IP options) and IPv6, with options of several lengths, an inner
/// Ethernet frame or a bare IP payload, and cut short at several places.
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
        "geneve and llc",
    ]

    // MARK: Crafted packets

    static func ipv4(_ protocolNumber: UInt8, _ payload: [UInt8], source: UInt8 = 1, options: Int = 0) -> [UInt8] {
        let total = 20 + options * 4 + payload.count
        return [UInt8(0x45 + options), 0, UInt8(total >> 8), UInt8(total & 0xff), 0, 1, 0, 0, 64, protocolNumber, 0, 0,
                10, 0, 0, source, 10, 0, 0, 9] + [UInt8](repeating: 1, count: options * 4) + payload
    }

    static func ipv6(_ next: UInt8, _ payload: [UInt8]) -> [UInt8] {
        let address = [0xfd] + [UInt8](repeating: 0, count: 14)
        return [0x60, 0, 0, 0, UInt8(payload.count >> 8), UInt8(payload.count & 0xff), next, 64] + address + [2] + address + [1] + payload
    }

    static func udp(_ port: UInt16, _ payload: [UInt8] = [1, 2, 3, 4]) -> [UInt8] {
        let length = 8 + payload.count
        return [0x0f, 0xa0, UInt8(port >> 8), UInt8(port & 0xff), UInt8(length >> 8), UInt8(length & 0xff), 0, 0] + payload
    }

    static func tcp(_ port: UInt16, flags: UInt8 = 0x02) -> [UInt8] {
        [0x0f, 0xa0, UInt8(port >> 8), UInt8(port & 0xff), 0, 0, 0, 1, 0, 0, 0, 0, 0x50, flags, 0xff, 0xff, 0, 0, 0, 0]
    }

    static func ethernet(_ type: UInt16, _ payload: [UInt8], tag: UInt16? = nil) -> [UInt8] {
        let addresses: [UInt8] = [0x02, 0, 0, 0, 0, 1, 0x02, 0, 0, 0, 0, 2]
        let vlan: [UInt8] = tag.map { [0x81, 0x00, UInt8($0 >> 8), UInt8($0 & 0xff)] } ?? []
        return addresses + vlan + [UInt8(type >> 8), UInt8(type & 0xff)] + payload
    }

    /// A Geneve header (version `version`, `optionWords` 4-byte words of options) and `payload`.
    static func geneve(_ protocolType: UInt16, vni: UInt32, optionWords: Int, version: UInt8 = 0, _ payload: [UInt8]) -> [UInt8] {
        [version << 6 | UInt8(optionWords), 0, UInt8(protocolType >> 8), UInt8(protocolType & 0xff),
         UInt8(vni >> 16 & 0xff), UInt8(vni >> 8 & 0xff), UInt8(vni & 0xff), 0]
            + [UInt8](repeating: 0xee, count: optionWords * 4) + payload
    }

    /// What Geneve carries: inner Ethernet frames and bare IP payloads.
    static let inners: [(protocolType: UInt16, bytes: [UInt8])] = [
        (0x6558, ethernet(0x0800, ipv4(6, tcp(80)))),
        (0x6558, ethernet(0x0800, ipv4(17, udp(53), source: 2))),
        (0x6558, ethernet(0x0800, ipv4(1, [8, 0, 0, 0, 0, 1, 0, 1]))),
        (0x6558, ethernet(0x86dd, ipv6(17, udp(53)))),
        (0x6558, ethernet(0x86dd, ipv6(6, tcp(80, flags: 0x10)))),
        (0x6558, ethernet(0x0806, [0, 1, 8, 0, 6, 4, 0, 1, 2, 0, 0, 0, 0, 2, 10, 0, 0, 1, 0, 0, 0, 0, 0, 0, 10, 0, 0, 9])),
        (0x6558, ethernet(0x0800, ipv4(6, tcp(70)), tag: 5)),
        (0x6558, ethernet(0x8847, [0, 0x01, 0x01, 64] + ipv4(17, udp(53)))),
        (0x6558, ethernet(0x0026, [0x42, 0x42, 0x03, 0, 0, 0])),
        (0x0800, ipv4(6, tcp(80))),
        (0x0800, ipv4(17, udp(53), source: 2)),
        (0x86dd, ipv6(6, tcp(80))),
        (0x8137, [0xff, 0xff, 0, 30]),
    ]

    /// The outer IP packets to UDP port 6081 (and a few near misses), without a link header.
    static let outerPackets: [[UInt8]] = {
        var packets: [[UInt8]] = []
        for (index, inner) in inners.enumerated() {
            for optionWords in [0, 1, 3, 8] {
                let vni: UInt32 = index % 2 == 0 ? 5 : 7
                let header = geneve(inner.protocolType, vni: vni, optionWords: optionWords, inner.bytes)
                packets.append(ipv4(17, udp(6081, header), options: optionWords % 2))
                packets.append(ipv6(17, udp(6081, header)))
            }
        }
        let sample = geneve(0x6558, vni: 5, optionWords: 1, ethernet(0x0800, ipv4(6, tcp(80))))
        packets.append(ipv4(17, udp(6081, geneve(0x6558, vni: 5, optionWords: 1, version: 1, ethernet(0x0800, ipv4(6, tcp(80)))))))
        packets.append(ipv4(17, udp(6082, sample)))
        packets.append(ipv4(6, tcp(6081)))
        return packets
    }()

    /// `ip` under `linkType`'s header (with its EtherType or family for IPv4 or IPv6).
    static func framed(_ ip: [UInt8], _ linkType: FilterLinkType) -> [UInt8] {
        let isIPv6 = ip.first.map { $0 >> 4 == 6 } ?? false
        let type: UInt16 = isIPv6 ? 0x86dd : 0x0800
        let typeBytes = [UInt8(type >> 8), UInt8(type & 0xff)]
        switch linkType {
        case .ethernet: return ethernet(type, ip)
        case .raw: return ip
        case .null: return [isIPv6 ? 10 : 2, 0, 0, 0] + ip
        case .sll: return [0, 0, 0, 1, 0, 6, 2, 0, 0, 0, 0, 1, 0, 0] + typeBytes + ip
        case .sll2: return typeBytes + [0, 0, 0, 0, 0, 2, 0, 1, 0, 6, 2, 0, 0, 0, 0, 1, 0, 0] + ip
        }
    }

    /// Every crafted packet for `linkType`, whole and cut short: inside the Geneve header,
    /// inside its options, and in the inner headers.
    static func crafted(_ linkType: FilterLinkType) -> [[UInt8]] {
        var packets: [[UInt8]] = []
        for ip in outerPackets {
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
        var (shorter, equal, longer) = (0, 0, 0)
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
                default: longer += 1
                }
                if linkType == .ethernet { lengths.append("\(expression) \(program.instructions.count)/\(theirsRaw.count)") }
            }
        }
        print("geneve filters: \(Self.expressions.count) expressions on \(FilterLinkType.allCases.count) link types, \(compared) packets compared with libpcap's unoptimized programs; libpcap's optimized programs differ from them on \(libpcapOptimizerDiffers)")
        print("geneve filter length vs libpcap: \(shorter) shorter, \(equal) equal, \(longer) longer; on Ethernet, ours/libpcap's: \(lengths.joined(separator: ", "))")
    }

    @Test("what cannot follow geneve is refused with a reason")
    func refusals() {
        #expect(throws: FilterError.self) { try PacketFilter.compile("geneve and ip protochain 6") }
        #expect(throws: FilterError.self) { try PacketFilter.compile("geneve and geneve 5") }
        #expect(throws: FilterError.self) { try PacketFilter.compileForSocket("vlan and geneve and ip") }
    }

    @Test("on a live socket without vlan, what follows geneve reads as in a file")
    func liveSocket() throws {
        #expect(try PacketFilter.compileForSocket("geneve and tcp") == PacketFilter.compile("geneve and tcp"))
    }
}
