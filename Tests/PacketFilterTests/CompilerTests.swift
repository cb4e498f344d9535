import ClassicBPF
import PacketFilter
import Testing

/// Errors say where and what; options and link types do what they say.
@Suite("Filter compiler")
struct CompilerTests {
    static func error(_ expression: String, _ linkType: FilterLinkType = .ethernet) -> FilterError? {
        do {
            _ = try PacketFilter.compile(expression, linkType: linkType)
            return nil
        } catch {
            return error
        }
    }

    @Test("errors point at the text at fault", arguments: [
        ("host foo", 5, "names need a resolver"),
        ("ip[1:3] = 1", 5, "data size must be 1, 2, or 4"),
        ("tcp port 80 and", 15, "found the end"),
        ("port 99999", 5, "greater than 65535"),
        ("ip[0] / 0 = 1", 6, "division by zero"),
        ("net 10.1.2.3/8", 4, "non-network bits"),
        ("gateway 1.2.3.4", 0, "no resolver was given"),
        ("ether protochain 6", 6, "does not take 'protochain'"),
        ("ip and # 1", 7, "unexpected character"),
        ("(tcp", 4, "')'"),
        ("udp port http", 9, "port 'http' is tcp"),
        ("tcp portrange ntp-ntp", 14, "port in range 'ntp-ntp' is udp"),
        ("ether host 00:11:22:33:44", 11, "bogus Ethernet address"),
        ("vlan 99999999999999999999", 5, "number 99999999999999999999 overflows 32 bits"),
        ("ip[4294967296] = 1", 3, "overflows 32 bits"),
        ("ether proto 4294967296", 12, "overflows 32 bits"),
        ("host 10.0.0.256", 5, "invalid IPv4 address '10.0.0.256'"),
        ("net 10.0.0.256", 4, "invalid IPv4 address"),
        ("ip[0] % 0 = 1", 6, "modulus by zero"),
        ("inbound", 0, "inbound/outbound not supported on Ethernet when reading savefiles"),
        ("ifindex 2", 0, "ifindex not supported on Ethernet"),
        ("tcp or udp and icmp", 0, "expression rejects all packets"),
    ])
    func errorPositions(_ expression: String, _ offset: Int, _ text: String) throws {
        let error = try #require(Self.error(expression))
        #expect(error.offset == offset, "\(error)")
        #expect(error.message.contains(text), "\(error)")
    }

    @Test("link-layer keywords are refused where there is no such header")
    func linkLayerErrors() {
        #expect(Self.error("vlan", .sll)?.message.contains("no VLAN support") == true)
        #expect(Self.error("ether host 1:2:3:4:5:6", .raw)?.message.contains("only on Ethernet") == true)
        #expect(Self.error("broadcast", .null)?.message.contains("not a broadcast link") == true)
        // Past `pppoes` the link is PPP, wherever it comes in the expression (libpcap's wording).
        #expect(Self.error("pppoes or ether broadcast")?.message == "PPP is not a broadcast link")
        #expect(Self.error("pppoes and ether host 1:2:3:4:5:6")?.message == "Ethernet addresses are supported only on Ethernet, not on PPP")
        #expect(Self.error("pppoes and vlan")?.message == "no VLAN support for PPP")
        #expect(Self.error("mpls and vlan")?.message == "no VLAN match after MPLS")
        #expect(Self.error("ether broadcast and pppoes") == nil)
    }

    /// LINKTYPE_IPV4 and LINKTYPE_IPV6 files (tcpdump reads them): as libpcap, no version
    /// is read, so the link's own protocol holds on every packet and the other on none.
    @Test("raw IPv4 and IPv6 links: their protocol always holds, the other never")
    func rawIPVersionLinks() throws {
        #expect(FilterLinkType(linkTypeValue: 228) == .ipv4 && FilterLinkType(linkTypeValue: 229) == .ipv6)
        let accept = [ClassicInstruction.ret(.constant(PacketFilter.defaultSnapshotLength))]
        #expect(try PacketFilter.compile("ip", linkType: .ipv4).instructions == accept)
        #expect(try PacketFilter.compile("not ip", linkType: .ipv6).instructions == accept)
        #expect(Self.error("ip6", .ipv4)?.message == "expression rejects all packets")
        #expect(Self.error("arp", .ipv6)?.message == "expression rejects all packets")
        #expect(Self.error("vlan", .ipv4)?.message == "no VLAN support for Raw IPv4")
        // `tcp` reads the protocol byte straight away, with no version test before it.
        let tcp = ClassicInterpreter(program: try PacketFilter.compile("tcp", linkType: .ipv4))
        let header: [UInt8] = [0x00, 0, 0, 20, 0, 0, 0, 0, 64, 6] + [UInt8](repeating: 0, count: 10)
        #expect(tcp.run(packet: header) != 0)
    }

    @Test("an empty expression accepts everything; a false one is refused, or rejects everything unoptimized")
    func constants() throws {
        #expect(try PacketFilter.compile("").instructions == [.ret(.constant(PacketFilter.defaultSnapshotLength))])
        for (expression, linkType) in [("1 = 2", FilterLinkType.ethernet), ("arp", .raw), ("ip and ip6", .sll)] {
            #expect(Self.error(expression, linkType)?.message == "expression rejects all packets")
            #expect(try PacketFilter.compile(expression, linkType: linkType, optimize: false).instructions.last == .ret(.constant(0)))
        }
    }

    @Test("a service name keeps to its protocols; numbers and names of both stand for TCP, UDP and SCTP")
    func serviceProtocols() throws {
        let table = FilterNameTable(services: ["web": ServicePort(8080, .tcp), "clock": ServicePort(123, .udp), "dns": ServicePort(53, .any)])
        func program(_ expression: String) throws -> [ClassicInstruction] {
            try PacketFilter.compile(expression, resolver: table).instructions
        }
        #expect(try program("port web") == program("tcp port 8080"))
        #expect(try program("port clock") == program("udp port 123"))
        #expect(try program("port dns") == program("port 53"))
        #expect(try program("portrange web-clock") == program("portrange 123-8080"))
        #expect(try program("portrange web-web") == program("tcp portrange 8080-8080"))
        #expect(try program("portrange 8080") == program("portrange 8080-8080"))
        #expect(throws: FilterError.self) { try PacketFilter.compile("sctp port clock", resolver: table) }
        #expect(try program("sctp port dns") == program("sctp port 53"))
    }

    @Test("the optimizer shortens and keeps the meaning")
    func optimizer() throws {
        let optimized = try PacketFilter.compile("host 1.2.3.4 or 5.6.7.8")
        let plain = try PacketFilter.compile("host 1.2.3.4 or 5.6.7.8", optimize: false)
        #expect(optimized.instructions.count < plain.instructions.count)
        var packet = [UInt8](repeating: 0, count: 34)
        packet[12] = 0x08
        packet[26...29] = [5, 6, 7, 8]
        for program in [optimized, plain] {
            #expect(ClassicInterpreter(program: program).run(packet: packet) != 0)
        }
    }

    @Test("long programs use ja trampolines and stay valid")
    func longJumps() throws {
        let expression = (1...90).map { "tcp port \($0)" }.joined(separator: " or ")
        let program = try PacketFilter.compile(expression)
        #expect(program.instructions.count > 256)
        #expect(program.instructions.contains { if case .jump = $0 { true } else { false } })
    }
}
