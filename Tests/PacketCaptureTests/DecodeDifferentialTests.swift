import Foundation
import PacketCapture
import TestPeers
import Testing

/// Our one-line decoding against tcpdump's, packet by packet, over every capture in the
/// shared corpus whose link type the decoder reads (Ethernet, Linux cooked SLL/SLL2, BSD
/// loopback, Cisco HDLC, raw IP). tcpdump runs as `tcpdump -n -t -# -r FILE`; `-#` numbers
/// each packet so its lines pair up with ours.
///
/// A packet is compared when our decoder understood every layer it met; the protocols it
/// reads include SCTP and DCCP, MPTCP and Fast Open options, SSH's version line, and
/// EtherTypes tcpdump has no dissector for (it prints the addresses, type and length, then a
/// hex dump, which is left out). Packets that reach a
/// protocol outside the decoder's scope (an application protocol tcpdump dissects, an
/// ethertype, an IP protocol, LLC frames) are excluded and counted by that protocol; the test
/// prints the counts. Files libpcap refuses or whose link type is out of scope are listed.
struct DecodeDifferentialTests {
    static let linkTypesInScope: Set<LinkType> = [.ethernet, .linuxSLL, .linuxSLL2, .null, .loop, .raw, .ipv4, .ipv6, .cHDLC]

    /// tcpdump's lines for `file`, keyed by packet number: the first line of each packet and
    /// whether more lines followed it.
    static func tcpdumpLines(_ tcpdump: URL, _ file: URL) throws -> [Int: (line: String, continued: Bool)] {
        let result = try Subprocess.run(tcpdump.path, ["-n", "-t", "-#", "-r", file.path])
        var lines: [Int: (line: String, continued: Bool)] = [:]
        var current: Int?
        for raw in result.text.split(separator: "\n", omittingEmptySubsequences: false) {
            let line = String(raw)
            // "%5u  " then the packet's text.
            if line.count >= 7, let number = Int(line.prefix(5).trimmingCharacters(in: .whitespaces)),
               line.dropFirst(5).hasPrefix("  ") {
                lines[number] = (String(line.dropFirst(7)), false)
                current = number
            } else if let current, !line.isEmpty, !line.hasPrefix("\t0x") {
                // tcpdump's hex dump of bytes it has no dissector for is not part of the line.
                lines[current]?.continued = true
            }
        }
        return lines
    }

    @Test func decodingMatchesTcpdump() throws {
        let files = CaptureTestData.corpusFiles()
        guard !files.isEmpty, let tcpdump = CaptureTestData.tcpdump() else { return }
        var passed = 0, failed: [String] = []
        var excluded: [String: Int] = [:]
        var filesOutOfScope: [String: Int] = [:]
        var filesCompared = 0
        var featuresCompared: [String: Int] = [:]
        for file in files {
            guard var reader = try? CaptureReader(try CaptureTestData.bytes(file)) else { continue }
            var packets = reader.readAll()
            guard let first = reader.interfaces.first else { continue }
            let outOfScope = reader.interfaces.map(\.linkType).filter { !Self.linkTypesInScope.contains($0) }
            if let linkType = outOfScope.first {
                filesOutOfScope[linkType.description, default: 0] += 1
                continue
            }
            _ = first
            if let snapshot = TcpdumpDifferentialTests.libpcapSnapshotLength(reader) {
                for index in packets.indices where packets[index].data.count > snapshot {
                    packets[index].data = Array(packets[index].data.prefix(snapshot))
                }
            }
            let theirs = try Self.tcpdumpLines(tcpdump, file)
            filesCompared += 1
            var printer = PacketPrinter()
            for (index, packet) in packets.enumerated() {
                let summary = PacketDecoder.decode(packet)
                let ours = printer.line(summary)
                guard let expected = theirs[index + 1] else { continue }
                if let protocolName = summary.undecoded.first {
                    excluded[Self.category(protocolName), default: 0] += 1
                    continue
                }
                if ours == expected.line && !expected.continued {
                    passed += 1
                    for feature in Self.features where ours.contains(feature) { featuresCompared[feature, default: 0] += 1 }
                } else {
                    failed.append("\(file.lastPathComponent) #\(index + 1):\n    ours:    \(ours)\n    tcpdump: \(expected.line)\(expected.continued ? " (+ more lines)" : "")")
                }
            }
        }
        print("decode agreement: \(passed) passed, \(failed.count) failed (\(filesCompared) files compared)")
        print("excluded packets by protocol: " + excluded.sorted { $0.value > $1.value }.map { "\($0.key) \($0.value)" }.joined(separator: ", "))
        print("files with link types out of scope: " + filesOutOfScope.sorted { $0.value > $1.value }.map { "\($0.key) \($0.value)" }.joined(separator: ", "))
        for failure in failed.prefix(400) { print(failure) }
        #expect(failed.isEmpty, "\(failed.count) packets decode differently from tcpdump")
        print("agreeing lines with: " + Self.features.map { "\($0) \(featuresCompared[$0] ?? 0)" }.joined(separator: ", "))
        for feature in Self.features { #expect(featuresCompared[feature] != nil, "no agreeing line shows \(feature)") }
    }

    /// What the decoder was taught to print after it was first compared, each of which the
    /// corpus must show in lines that agree with tcpdump's: MPTCP options, experimental TCP
    /// Fast Open options, SSH version lines, SCTP and DCCP, IPv6 routing headers and
    /// jumbograms, IP in IPv6, EtherTypes, IP protocols and ICMPv6 types tcpdump does not
    /// know, ARP for other hardware and protocols, IGMP, GRE with IP inside, VRRP, EIGRP, HSRP and BFD,
    /// ICMPv6 node information queries and replies.
    static let features = [
        ",mptcp ", "exp-tfo ", ": SSH: SSH-", ": sctp (1) [", ": DCCP DCCP-", ": RT6 (len=", "HBH ICMP6, echo request",
        ") IP6 ", "ethertype Unknown (0x", " ip-proto-", "unknown icmp6 type (", "no next header", "ARP, Unknown (",
        "Unknown Protocol (0x", ": igmp v2 report ", ": igmp query v",
        ": GREv0, length ", ": VRRPv2, Advertisement, ", ": VRRPv3, Advertisement, ", ": EIGRP Hello, length: ", ": HSRPv0-hello ", ": BFDv1, Control, State ",
        "who-are-you request node information query (", "who-are-you reply node information reply (",
    ]

    /// Every packet of the corpus cut short at every length up to 160 bytes, and with bytes
    /// flipped, on every link type the decoder reads: decoding and printing must only ever
    /// return a line (a trap would end the test process).
    @Test func cutAndDamagedPacketsDecode() throws {
        let files = CaptureTestData.corpusFiles()
        // Knuth's MMIX linear congruential generator: deterministic, so a failure replays.
        var state: UInt64 = 0x5eed
        let next = { () -> Int in
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return Int(truncatingIfNeeded: state >> 33)
        }
        var lines = 0
        for file in files {
            guard var reader = try? CaptureReader(try CaptureTestData.bytes(file)) else { continue }
            let packets = reader.readAll()
            var printer = PacketPrinter()
            for packet in packets.prefix(200) {
                let linkTypes: [LinkType] = Self.linkTypesInScope.contains(packet.linkType) ? [packet.linkType] : [.ethernet, .raw]
                for linkType in linkTypes {
                    for length in 0...min(packet.data.count, 160) {
                        let data = Array(packet.data.prefix(length))
                        for originalLength in [packet.originalLength, length, length / 2] {
                            _ = printer.line(PacketDecoder.decode(data, originalLength: originalLength, linkType: linkType))
                            lines += 1
                        }
                    }
                    var damaged = packet.data
                    for _ in 0..<8 where !damaged.isEmpty {
                        damaged[next() % damaged.count] = UInt8(truncatingIfNeeded: next())
                        _ = printer.line(PacketDecoder.decode(damaged, originalLength: damaged.count, linkType: linkType))
                        lines += 1
                    }
                }
            }
        }
        print("decoded \(lines) cut or damaged packets")
        #expect(files.isEmpty || lines > 100_000)
    }

    /// Exclusion categories: the protocol, without the numbers that make each packet differ.
    static func category(_ name: String) -> String {
        if name.hasPrefix("ARP for") { return "ARP for other hardware/protocols" }
        return name
    }
}
