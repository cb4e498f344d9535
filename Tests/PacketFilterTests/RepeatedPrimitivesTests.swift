import ClassicBPF
import PacketFilter
import Testing

/// A primitive that ran before on every way to it is decided (`PredicateTree.decidingRepeats`).
@Suite("Repeated primitives")
struct RepeatedPrimitivesTests {
    /// Expressions with a repeat, and the expression they mean once it is decided.
    static let decided: [(String, String)] = [
        ("port 80 or (dst port 443 or port 80)", "port 80 or dst port 443"),
        ("port 80 and (not udp port 53 and port 80)", "port 80 and not udp port 53"),
        ("tcp port 22 or dst port 443 or tcp port 22", "tcp port 22 or dst port 443"),
        ("not host 10.0.0.1 and not (portrange 1000-2000 and not host 10.0.0.1)", "not host 10.0.0.1 and not portrange 1000-2000"),
        ("udp port 53 or (ip[8] > 60 or udp port 53 or dst port 443)", "udp port 53 or (ip[8] > 60 or dst port 443)"),
        // Whatever a test of the length alone says, the repeat decides.
        ("(less 80 and udp port 53) or udp port 53", "udp port 53"),
        ("(udp port 53 or len > 100) and udp port 53", "udp port 53"),
    ]

    @Test("a repeat compiles as the expression without it, on every link type")
    func repeatsDecided() throws {
        for (expression, meaning) in Self.decided {
            for linkType in FilterLinkType.allCases {
                let ours = try PacketFilter.compile(expression, linkType: linkType)
                #expect(ours == (try PacketFilter.compile(meaning, linkType: linkType)), "\(linkType) '\(expression)'")
                #expect(try PacketFilter.compileForSocket(expression, linkType: linkType)
                        == (try PacketFilter.compileForSocket(meaning, linkType: linkType)), "\(linkType) live '\(expression)'")
            }
        }
    }

    /// Repeats among random combinations whose programs the decision shortened, and ones where
    /// deciding a repeat would leave another test no say (`p or not p`): that test and its
    /// reads stay, as in libpcap's program, which drops cut packets there.
    static let checked = decided.map(\.0) + [
        "portrange 1000-2000 or (dst host 192.1.2.23 or port 80) or portrange 1000-2000",
        "(tcp port 22 and not less 80 and tcp port 22 or port 80 and host 10.0.0.1 and not port 80)",
        "not (host 10.0.0.1 and (not ether broadcast and host 10.0.0.1) or tcp[13] & 2 != 0) and not icmp",
        "portrange 1000-2000 or not portrange 1000-2000 or arp or port 80",
        "ip6 host ::1 or not ((ether multicast and ip6 host ::1))",
        "not (less 80 and udp port 53 or udp port 53) or ((port 53 or not tcp port 22) and not greater 1000)",
    ]

    @Test("no longer than libpcap's, and the same packets kept, cut ones too")
    func agreement() throws {
        guard let compared = try LongChainTests.compareWithLibpcap(Self.checked, skippingRefused: true) else { return }
        #expect(compared > 0)
    }
}
