import ClassicBPF
import PacketFilter
import Testing

/// "expression rejects all packets" comes where libpcap's optimizer says it and nowhere else:
/// a tcpdump command that works there works here, though our optimizer proves more filters
/// false than libpcap's.
@Suite("Refusing false filters as libpcap does")
struct RefusalTests {
    /// Filters libpcap proves false, and filters only ours does (ranges of one value, the
    /// 802.3 length range against an EtherType): which is which is tcpdump's to say.
    static let expressions = [
        "tcp and udp", "ip and ip6", "tcp or udp and icmp", "not ip and ip[0] = 4", "1 = 2", "2 * 3 = 7",
        "(tcp or udp) and icmp", "stp and ip", "arp and tcp port 80", "tcp port 80 and udp", "ip[0] = 1 and ip[0] = 2",
        "tcp[13] & 2 != 0 and not tcp[13] & 2 != 0", "ether proto 0x800 and arp", "ip6 and ip proto 6",
        "iso and carp", "len > 100 and less 80", "greater 1000 and less 80", "ip[0] > 5 and ip[0] < 3",
        "len < 10 and len > 20", "iso and ip", "llc and ip6", "vlan 10 and vlan 20",
        // A relation's comparison is decided only by another relation's, as libpcap's optimizer does
        "tcp and ip[9] = 17", "ip6 and ether[12:2] = 0x800", "ether[12:2] = 0x800 and arp",
        "ether[12:2] = 0x86dd and ether[12:2] = 0x800", "ether[12:2] = 0x800 and ether[12:2] != 0x800",
        "(icmp6 and (udp port 53 and ip multicast or ip6 host ::1 and ether[12:2] = 0x800))",
        // Proved false once the ports are laid out per protocol, as libpcap's are
        "port 53 and icmp", "port 80 and icmp and ip[8] > 60", "portrange 1000-2000 and icmp6",
        // Ports without a protocol proved false once laid out per protocol, with no protocol
        // tested elsewhere too (random finds)
        "port 53 and not port 53", "src port 53 and not src port 53", "portrange 1-2 and not portrange 1-2",
        // The IP check after MPLS (`and #1; jeq #1`) is not related to another label's `jset #1`
        "not mpls and port 53 and mpls 100", "(not mpls and (port 53 or ip6 host ::1) and mpls 100)", "mpls and ip and ip6",
        // libpcap finds what each edge knows once a pass, before it moves edges, and moves
        // them from the leaves up (random finds): refused there, so here
        "less 80 or udp port 53 and ip6 host ::1 and icmp", "not tcp port 22 or not greater 1000 and icmp6 and not icmp6",
        "(not (not ether multicast or tcp port 22) or tcp port 80 and portrange 1000-2000) and arp",
        "not udp port 53 or stp and (src net 192.168.0.0/16 and not (not ip6 host ::1 or tcp port 22))",
        // ...but compiled where its own layout keeps it from the proof: `port 80` per protocol
        // jumps past `tcp port 22`'s protocol test on TCP; `tcp[13]` is guarded by `tcp` with
        // its IPv6 side, which goes only in a later pass (random finds)
        "port 80 or dst host 192.1.2.23 and (tcp port 22 and host 10.0.0.1 and udp port 53)",
        "ip[8] > 60 or dst port 443 or not arp and tcp port 22 and dst host 192.1.2.23 and udp port 5353",
        "(less 80 and tcp port 80) or tcp[13] & 2 != 0 and udp port 53",
        // libpcap does not optimize a filter with protochain, so proves nothing false
        "protochain 6 and ip6 and ip", "(host 1.2.3.4 or 5.6.7.8) and (ip6 protochain 44)",
    ]

    @Test("a filter is refused as false exactly where tcpdump refuses it, on every link type")
    func refusals() throws {
        guard let tcpdump = FilterTestSupport.tcpdump() else { return }
        var refused = 0, compiled = 0
        for expression in Self.expressions {
            for linkType in FilterLinkType.allCases {
                let label = "-y \(linkType.dataLinkName) '\(expression)'"
                let theirs: Bool
                switch FilterTestSupport.libpcap(tcpdump, expression, linkType) {
                case .program: theirs = false
                case .refused(let message):
                    // Other errors (a keyword with no meaning on the link type) are not in question here.
                    guard message.contains("rejects all packets") else { continue }
                    theirs = true
                }
                let ours: Bool
                switch Result(catching: { () throws(FilterError) in try PacketFilter.compile(expression, linkType: linkType) }) {
                case .success: ours = false
                case .failure(let error):
                    #expect(error.message == "expression rejects all packets", "\(label): \(error)")
                    ours = true
                }
                #expect(ours == theirs, "\(label): libpcap \(theirs ? "refuses" : "compiles"), we \(ours ? "refuse" : "compile")")
                if theirs { refused += 1 } else { compiled += 1 }
            }
        }
        print("refusals as libpcap's: \(refused) pairs refused by both, \(compiled) compiled by both (libpcap's verdict)")
        #expect(refused > 0 && compiled > 0, "the list must hold both kinds")
    }

    @Test("a filter only our optimizer proves false compiles to a program that rejects every packet")
    func provenFalseOnlyHere() throws {
        for expression in ["iso and carp", "len > 100 and less 80"] {
            #expect(try PacketFilter.compile(expression).instructions == [.ret(.constant(0))], "\(expression)")
            // Without the optimizer nothing is proven; the program is libpcap's unoptimized one.
            #expect(try PacketFilter.compile(expression, optimize: false).instructions.count > 1)
        }
    }
}
