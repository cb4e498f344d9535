#if os(Linux)
import ClassicBPF
import Foundation
import Glibc
import PacketFilter
import TestPeers
import Testing

/// Filters for a live Linux socket (`PacketFilter.compileForSocket`) against libpcap's live
/// program (`tcpdump -ddd -i lo`, with its ancillary loads and its run-time VLAN offset in
/// M[1]), both run in `ClassicInterpreter` with the kernel's ancillary data on every frame
/// the way a socket filter can see it: outer tag taken out (received) or in the frame (sent,
/// or no tag offloaded), as the host's packet or an outgoing one, on two interface indexes.
@Suite struct LiveFilterTests {
    static func ethernet(_ type: UInt16, _ payload: [UInt8]) -> [UInt8] {
        [0x02, 0, 0, 0, 0, 1, 0x02, 0, 0, 0, 0, 2, UInt8(type >> 8), UInt8(type & 0xff)] + payload
    }

    /// 10.9.0.2 to 10.9.0.1; `fragment` is the flags and offset word.
    static func ipv4(_ protocolNumber: UInt8, _ payload: [UInt8], fragment: UInt16 = 0) -> [UInt8] {
        let total = 20 + payload.count
        return [0x45, 0, UInt8(total >> 8), UInt8(total & 0xff), 0, 1, UInt8(fragment >> 8), UInt8(fragment & 0xff),
                64, protocolNumber, 0, 0, 10, 9, 0, 2, 10, 9, 0, 1] + payload
    }

    /// fd00::2 to fd00::1.
    static func ipv6(_ next: UInt8, _ payload: [UInt8]) -> [UInt8] {
        let address = [0xfd] + [UInt8](repeating: 0, count: 14)
        return [0x60, 0, 0, 0, UInt8(payload.count >> 8), UInt8(payload.count & 0xff), next, 64] + address + [2] + address + [1] + payload
    }

    static func udp(_ port: UInt16) -> [UInt8] { [0x0f, 0xa0, UInt8(port >> 8), UInt8(port & 0xff), 0, 12, 0, 0, 1, 2, 3, 4] }

    static func tcp(_ port: UInt16, flags: UInt8) -> [UInt8] {
        [0x0f, 0xa0, UInt8(port >> 8), UInt8(port & 0xff), 0, 0, 0, 1, 0, 0, 0, 0, 0x50, flags, 0xff, 0xff, 0, 0, 0, 0]
    }

    /// Untagged frames of each protocol the expressions ask about.
    static let untagged: [[UInt8]] = [
        ethernet(0x0800, ipv4(17, udp(9))),
        ethernet(0x0800, ipv4(17, udp(9999))),
        ethernet(0x0800, ipv4(6, tcp(80, flags: 0x02))),
        ethernet(0x0800, ipv4(6, tcp(80, flags: 0x10))),
        ethernet(0x0800, ipv4(1, [8, 0, 0, 0, 0, 1, 0, 1])),
        ethernet(0x0800, ipv4(17, udp(9), fragment: 0x0010)),  // not the first fragment
        ethernet(0x86dd, ipv6(6, tcp(80, flags: 0x02))),
        ethernet(0x86dd, ipv6(58, [128, 0, 0, 0, 0, 1, 0, 1])),
        ethernet(0x0806, [0, 1, 8, 0, 6, 4, 0, 1, 2, 0, 0, 0, 0, 2, 10, 9, 0, 2, 0, 0, 0, 0, 0, 0, 10, 9, 0, 1]),
        ethernet(0x8847, [0, 0x01, 0x01, 64] + ipv4(17, udp(9))),  // MPLS label 16
        ethernet(0x0800, [0x45, 0]),  // cut short: loads past its end reject it
    ]

    /// Tags (TPID, TCI), outer first.
    static let tagSets: [[(protocolID: UInt16, tci: UInt16)]] = [
        [], [(0x8100, 5)], [(0x8100, 6)], [(0x88a8, 5), (0x8100, 7)], [(0x8100, 6), (0x8100, 8)],
        [(0x8100, 0x2005)], [(0x9100, 5)], [(0x8100, 5), (0x8100, 5)],
    ]

    /// Every frame as a socket filter can see it, with the ancillary data the kernel gives.
    static let views: [(frame: [UInt8], ancillary: AncillaryData)] = {
        var views: [(frame: [UInt8], ancillary: AncillaryData)] = []
        for base in untagged {
            for tags in tagSets {
                let frame = tagged(base, tags)
                var seen: [([UInt8], AncillaryData)] = [(frame, AncillaryData())]
                if let outer = tags.first {
                    var inner = frame
                    inner.removeSubrange(12..<16)
                    seen.append((inner, AncillaryData(vlanTag: outer.tci, vlanTagPresent: true, vlanProtocol: outer.protocolID)))
                }
                for (bytes, ancillary) in seen {
                    for packetType: UInt8 in [0, 4] {
                        for interfaceIndex: UInt32 in [3, 5] {
                            var data = ancillary
                            data.packetType = packetType
                            data.interfaceIndex = interfaceIndex
                            views.append((bytes, data))
                        }
                    }
                }
            }
        }
        return views
    }()

    static let expressions = [
        "vlan", "vlan 5", "vlan 6", "vlan 7", "not vlan", "not vlan 5", "vlan or ip", "vlan or udp", "ip or vlan",
        "udp port 9 or vlan 5", "vlan and ip", "vlan 5 and ip", "vlan and ip6", "vlan and arp", "vlan and tcp",
        "vlan and udp", "vlan and icmp", "vlan and icmp6", "vlan 5 and udp port 9", "vlan and tcp port 80",
        "vlan and host 10.9.0.1", "vlan and net 10.9.0.0/16", "vlan and src host 10.9.0.2 and dst port 9",
        "vlan and host fd00::1", "vlan and ip6 and tcp port 80", "vlan and vlan", "vlan 5 and vlan 7",
        "vlan and vlan 7 and udp", "vlan 6 and vlan 8 and udp port 9", "vlan 5 and vlan 5 and vlan",
        "vlan and tcp[13] & 2 != 0", "vlan 5 and tcp[tcpflags] & tcp-syn != 0", "vlan and ip[9] = 17",
        "vlan and ether[14] = 8", "vlan and ether host 02:00:00:00:00:01", "vlan and less 60", "vlan and greater 70",
        "not vlan and udp", "not (vlan 5) and ip", "(vlan 5 or vlan 6) and udp", "(ip and vlan) or udp",
        "ip and vlan or udp", "(udp or vlan) and ip", "not (ip or vlan) or tcp", "vlan and (tcp or udp) and port 9",
        "ip6 or vlan 5 and udp", "tcp or not vlan 6 and icmp", "vlan and mpls", "vlan and mpls 16 and udp",
        "vlan and llc", "udp", "tcp port 80",
        "inbound", "outbound", "ifindex 3", "ifindex 5", "inbound and vlan 5", "vlan and outbound",
        "outbound or vlan 6 and udp", "ifindex 3 and vlan and udp", "not inbound and not ifindex 5",
        // `and` and `or` alternate down to the first vlan (they group from the left): each
        // level's continuations are shared, built once each or the compile never ends.
        "ip6 or " + (1...40).map { "vlan \($0 % 8) and udp port \(9 + $0 % 2)" }.joined(separator: " or "),
    ]

    /// libpcap's live program for `expression`, optimized or not (`-O`).
    static func libpcapLive(_ tcpdump: String, _ expression: String, optimized: Bool) throws -> ClassicProgram? {
        let result = try Subprocess.run(tcpdump, ["-ddd", "-i", "lo"] + (optimized ? [] : ["-O"]) + ["--", expression])
        #expect(result.status == 0, "tcpdump -ddd -i lo '\(expression)': \(result.errors)")
        guard result.status == 0 else { return nil }
        return try ClassicProgram(ClassicTextFormat.decimal.parse(result.text))
    }

    /// Ours, optimized and not, return what libpcap's live program returns on every view of
    /// every frame. The reference is libpcap's unoptimized program, which is what its code
    /// generator means; its optimizer can move the run-time VLAN offset onto the path where
    /// the tag was taken out (libpcap issue #1513, open), so where its optimized program
    /// differs from its own unoptimized one, those views are counted and named instead.
    /// The lengths compare ours optimized with libpcap's optimized program, the one tcpdump
    /// attaches.
    @Test func agreesWithLibpcapsLiveProgram() throws {
        guard let tcpdump = FilterTestSupport.tcpdump() else { return }
        guard geteuid() == 0 else {
            let required = ["SWIFTBPF_REQUIRE_KERNEL", "SWIFTBPF_REQUIRE_PEERS"].contains { ProcessInfo.processInfo.environment[$0] == "1" }
            if required { Issue.record("tcpdump -d -i lo needs root (to open the interface), and a peer or the kernel is required") }
            print("skipped: tcpdump -d -i lo needs root")
            return
        }
        var compared = 0, libpcapOptimizerDiffers = 0
        var differing: Set<String> = []
        var (shorter, equal, longer) = (0, 0, 0)
        var longerOnes: [String] = []
        for expression in Self.expressions {
            guard let theirs = try Self.libpcapLive(tcpdump, expression, optimized: true),
                  let theirsUnoptimized = try Self.libpcapLive(tcpdump, expression, optimized: false) else { continue }
            let (optimized, unoptimized) = (ClassicInterpreter(program: theirs), ClassicInterpreter(program: theirsUnoptimized))
            let program = try PacketFilter.compileForSocket(expression)
            let ours = [program, try PacketFilter.compileForSocket(expression, optimize: false)].map(ClassicInterpreter.init)
            for (index, view) in Self.views.enumerated() {
                let expected = unoptimized.run(packet: view.frame, ancillary: view.ancillary)
                if optimized.run(packet: view.frame, ancillary: view.ancillary) != expected {
                    libpcapOptimizerDiffers += 1
                    differing.insert(expression)
                }
                for (form, interpreter) in zip(["optimized", "unoptimized"], ours) {
                    let got = interpreter.run(packet: view.frame, ancillary: view.ancillary)
                    #expect(got == expected, "'\(expression)' (\(form)) on view \(index): \(view.ancillary): libpcap returns \(expected), ours \(got)")
                }
                compared += 1
            }
            switch program.raw.count - theirs.raw.count {
            case ..<0: shorter += 1
            case 0: equal += 1
            default:
                longer += 1
                longerOnes.append("\(expression) (\(program.raw.count) vs \(theirs.raw.count))")
            }
            // Reading past the first tag at a run-time offset (or twice, whichever is shorter)
            // keeps every program within libpcap's length.
            #expect(program.raw.count <= theirs.raw.count, "'\(expression)': \(program.raw.count) instructions, libpcap's \(theirs.raw.count)")
        }
        #expect(Self.expressions.count >= 40)
        print("live filters: \(Self.expressions.count) expressions, \(compared) views compared with libpcap's live programs; "
              + "libpcap's optimizer changes the verdict on \(libpcapOptimizerDiffers) of them, in \(differing.sorted())")
        print("live filter length vs libpcap: \(shorter) shorter, \(equal) equal, \(longer) longer" + (longerOnes.isEmpty ? "" : ": " + longerOnes.joined(separator: "; ")))
    }

    /// The first `vlan` tests the ancillary data, which the optimizer keeps apart from packet
    /// bytes; a capture file's program has none of it and refuses `inbound` on Ethernet.
    @Test func liveAndFilePrograms() throws {
        let live = try PacketFilter.compileForSocket("vlan 5 and ip")
        let fields = Set(live.instructions.compactMap(\.ancillaryField))
        #expect(fields == [.vlanTagPresent, .vlanTag])
        let file = try PacketFilter.compile("vlan 5 and ip")
        #expect(file.instructions.allSatisfy { $0.ancillaryField == nil })
        #expect(try PacketFilter.compileForSocket("ip") == PacketFilter.compile("ip"))
        #expect(try PacketFilter.compileForSocket("inbound").instructions.compactMap(\.ancillaryField) == [.packetType])
        #expect(try PacketFilter.compileForSocket("ifindex 7", linkType: .raw).instructions.compactMap(\.ancillaryField) == [.interfaceIndex])
        #expect(throws: FilterError.self) { try PacketFilter.compile("inbound") }
        #expect(throws: FilterError.self) { try PacketFilter.compile("ifindex 7") }
        #expect(throws: FilterError.self) { try PacketFilter.compileForSocket("vlan", linkType: .raw) }
        // An offloaded tag is never the frame's: [vlanp] decides, not bytes 12 and 13.
        let interpreter = ClassicInterpreter(program: live)
        let untaggedIP = Self.ethernet(0x0800, Self.ipv4(17, Self.udp(9)))
        #expect(interpreter.run(packet: untaggedIP, ancillary: AncillaryData(vlanTag: 5, vlanTagPresent: true, vlanProtocol: 0x8100)) != 0)
        #expect(interpreter.run(packet: untaggedIP, ancillary: AncillaryData()) == 0)
        #expect(interpreter.run(packet: tagged(untaggedIP, [(0x8100, 5)]), ancillary: AncillaryData()) != 0)
    }
}
#endif
