import ClassicBPF
import PacketFilter
import Testing

/// The less common forms of pcap-filter(7): what they are refused for, with where, and
/// which id takes which qualifiers. Their meaning is checked against libpcap in
/// `AgreementTests`.
@Suite("Filter language forms")
struct LanguageFormTests {
    @Test("refusals say where and what", arguments: [
        ("llc nosuch", FilterLinkType.ethernet, 4, "unknown LLC type 'nosuch'"),
        ("llc i", .sll, 0, "'llc' is not supported for Linux cooked v1"),
        ("pppoes and llc", .ethernet, 11, "'llc' is not supported for PPP"),
        ("iso proto \\foo", .ethernet, 10, "unknown OSI protocol 'foo'"),
        ("l1 proto 3", .ethernet, 3, "'l1' does not take 'proto'"),
        ("isis[0] = 1", .ethernet, 0, "'isis[...]' is not supported"),
        ("aarp[0] = 0", .ethernet, 0, "'aarp[...]' is not supported"),
        ("decnet host 64.1", .ethernet, 12, "DECnet area 64 is greater than 63"),
        ("decnet src 10.1024", .ethernet, 11, "DECnet node 1024 is greater than 1023"),
        ("decnet dst 70000", .ethernet, 11, "DECnet address 70000 is greater than 65535"),
        ("decnet host localhost", .ethernet, 12, "'localhost' is not a DECnet address such as 10.23"),
        ("decnet port 10", .ethernet, 12, "'decnet' has no ports"),
        ("mpls and arp", .ethernet, 9, "only ip and ip6 can follow mpls"),
        ("mpls and ip", .sll, 0, "no MPLS support for Linux cooked v1"),
        ("localhost", .ethernet, 0, "'localhost' needs a qualifier such as 'host'"),
        ("tcp or 10.0.0.1", .ethernet, 7, "'10.0.0.1' needs a qualifier"),
        ("(host 1.1.1.1) or 2.2.2.2", .ethernet, 18, "'2.2.2.2' needs a qualifier"),
        ("host 1.1.1.1 or len > 3 or 2.2.2.2", .ethernet, 27, "'2.2.2.2' needs a qualifier"),
        ("ip 10.0.0.1", .ethernet, 3, "expected 'and', 'or' or the end, found '10.0.0.1'"),
        ("ppp", .ethernet, 0, "'ppp' needs a qualifier such as 'host' or 'proto'"),
        ("fddi 0:1:2:3:4:5", .ethernet, 0, "'fddi' needs a qualifier"),
        ("geneve and ip protochain 6", .ethernet, 14, "'protochain' is not supported with variable length headers"),
        ("geneve and geneve and geneve and geneve and geneve and geneve", .ethernet, 55, "at most 5 geneve"),
        ("geneve 16777216", .ethernet, 0, "Geneve VNI 16777216 is greater than the maximum 16777215"),
        // An escaped word is a name, not a number, `len` or packet data (libpcap: a syntax error).
        ("len = \\ip[0]", .ethernet, 6, "expected a number, 'len' or packet data such as ip[0], found 'ip'"),
        ("tcp[13] = \\tcp-syn", .ethernet, 10, "found 'tcp-syn'"),
        ("len = \\10", .ethernet, 6, "found '10'"),
    ])
    func refusals(_ expression: String, _ linkType: FilterLinkType, _ offset: Int, _ text: String) throws {
        let error = try #require(CompilerTests.error(expression, linkType))
        #expect(error.offset == offset, "\(error)")
        #expect(error.message.contains(text), "\(error)")
    }

    static func program(_ expression: String, _ linkType: FilterLinkType = .ethernet) throws -> [ClassicInstruction] {
        try PacketFilter.compile(expression, linkType: linkType).instructions
    }

    @Test("an id alone takes the qualifiers of the primitive before it, across parentheses and 'not'")
    func inheritedQualifiers() throws {
        #expect(try Self.program("host 1.1.1.1 or (2.2.2.2)") == Self.program("host 1.1.1.1 or host 2.2.2.2"))
        #expect(try Self.program("host 1.1.1.1 and not 2.2.2.2") == Self.program("host 1.1.1.1 and not host 2.2.2.2"))
        #expect(try Self.program("src port 53 or 54") == Self.program("src port 53 or src port 54"))
        #expect(try Self.program("host 1.1.1.1 or (host 2.2.2.2) or 3.3.3.3")
                == Self.program("host 1.1.1.1 or host 2.2.2.2 or host 3.3.3.3"))
        #expect(try Self.program("decnet src 1.2 or 1.3") == Self.program("decnet src 1.2 or decnet src 1.3"))
    }

    @Test("fddi, tr, wlan, ppp and slip read the link layer as ether and link do")
    func linkLayerNames() throws {
        for name in ["fddi", "tr", "wlan", "ppp", "slip"] {
            #expect(try Self.program("\(name) src 0:1:2:3:4:5") == Self.program("ether src 0:1:2:3:4:5"))
            #expect(try Self.program("\(name) proto \\arp") == Self.program("ether proto \\arp"))
            #expect(try Self.program("\(name)[12:2] = 0x800") == Self.program("link[12:2] = 0x800"))
            #expect(try Self.program("\(name) broadcast") == Self.program("ether broadcast"))
        }
    }

    @Test("a network name is its number with the leading zero bytes out of the mask, as libpcap's")
    func networkNames() throws {
        let table = FilterNameTable(networks: ["office": 10, "lab": 0xac10_0000, "none": 0])
        func program(_ expression: String) throws(FilterError) -> [ClassicInstruction] {
            try PacketFilter.compile(expression, resolver: table).instructions
        }
        #expect(try program("net office") == Self.program("net 10.0.0.0/8"))
        #expect(try program("src net lab") == Self.program("src net 172.16.0.0/32"))
        for (expression, text) in [("net none", "unknown network 'none'"), ("net office/8", "takes no /length or mask")] {
            do {
                _ = try program(expression)
                Issue.record("'\(expression)' compiled")
            } catch {
                #expect(error.message.contains(text), "\(error)")
            }
        }
        #expect(CompilerTests.error("net office")?.message.contains("names need a resolver") == true)
    }

    @Test("the OSI names stand for their protocol IDs and IS-IS PDU types")
    func osiNames() throws {
        #expect(try Self.program("isis") == Self.program("iso proto 0x83"))
        #expect(try Self.program("iso proto \\clnp") == Self.program("iso proto 0x81"))
        #expect(try Self.program("lsp") == Self.program("isis proto 18 or isis proto 20"))
        #expect(try Self.program("llc RR") == Self.program("llc rr"))
        #expect(try Self.program("llc rnr") != Self.program("llc rr"))
    }
}
