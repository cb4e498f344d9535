import ClassicBPF
@testable import PacketFilter
import Testing

/// `port` without a protocol laid out once per protocol, as libpcap does, where some other
/// primitive tests the IP protocol and the program with the ports shared reads a byte twice
/// (or matches nothing): each protocol's copy of the ports is decided apart, and the shorter
/// of the two programs is kept (`PacketFilter.shorter`).
@Suite("Ports laid out per protocol")
struct PortLayoutTests {
    /// Longer than libpcap's with the ports shared (random finds; Ethernet lengths shared,
    /// libpcap's): 36/24, 34/20, 52/35, 28/21, 49/43. For TCP, `not port 80 or tcp port 80`
    /// holds whatever the ports: libpcap's TCP copy skips their loads.
    static let finds = [
        "not port 80 or tcp port 80",
        "(not port 80 or udp port 53 or (tcp port 80 or udp))",
        "(ether broadcast or tcp[13] & 2 != 0 or not port 80 or (arp or tcp port 80) and not icmp6)",
        "not ((ip or port 53)) or udp port 53",
        "(ip[8] > 60 or not esp and not port 53 or src net 192.168.0.0/16 or udp port 53)",
    ]

    /// The program with the ports shared, as `PacketFilter.compile` first builds it (no find
    /// writes a primitive twice, so none has a repeat decided first: `decidingRepeats`).
    static func sharedLength(_ expression: String, _ linkType: FilterLinkType) throws -> Int {
        try ReshapingTests.program(FilterParser.parse(expression, linkType: linkType), reshaping: true).code.count
    }

    @Test("no longer than libpcap's, where the shared layout is longer, and the same packets kept, cut ones too")
    func finds() throws {
        guard let tcpdump = FilterTestSupport.tcpdump() else { return }
        var longerShared = 0
        for expression in Self.finds {
            for linkType in FilterLinkType.allCases {
                guard case .program(let theirs) = FilterTestSupport.libpcap(tcpdump, expression, linkType) else { continue }
                if try Self.sharedLength(expression, linkType) > theirs.count { longerShared += 1 }
            }
        }
        // Each find on Ethernet at least: the layout is what made them no longer.
        #expect(longerShared >= Self.finds.count)
        guard let compared = try LongChainTests.compareWithLibpcap(Self.finds, skippingRefused: true) else { return }
        #expect(compared >= Self.finds.count)
    }

    @Test("laid out per protocol only where another primitive tests the IP protocol")
    func onlyWhereItMayMatter() throws {
        for (expression, mayMatter) in [("port 80", false), ("host 10.0.0.1 and (port 80 or port 443)", false),
                                         ("tcp port 80 and udp port 53", false), ("port 80 and tcp", true),
                                         ("udp port 53 or portrange 1-100", true), ("icmp6 or port 53", true),
                                         ("geneve and port 80 and tcp", false)] {
            #expect(try FilterParser.parse(expression, linkType: .ethernet).arena.portLayoutMayMatter == mayMatter, "\(expression)")
        }
    }
}
