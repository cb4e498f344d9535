import Foundation
import TestPeers
import Testing

/// `capture -v` against `tcpdump -n -v` over the whole corpus, packet by packet (a packet is
/// its line and the indented lines under it).
@Suite struct CaptureVerboseTests {
    /// Packets as tcpdump prints them with -v: each line with the continuation lines under
    /// it; the hex dumps tcpdump adds for data it does not dissect are left out.
    static func packets(_ text: String) -> [String] {
        var packets: [String] = []
        for line in text.split(separator: "\n", omittingEmptySubsequences: true) where !line.hasPrefix("\t0x") {
            if line.hasPrefix(" ") || line.hasPrefix("\t") {
                if !packets.isEmpty { packets[packets.count - 1] += "\n" + line }
            } else {
                packets.append(String(line))
            }
        }
        return packets
    }

    /// The -n lines whose -v form is in scope: ARP, and one IPv4 or IPv6 header (no
    /// extension headers) carrying TCP, UDP, ICMP or ICMPv6 with nothing above them.
    static var inScope: Regex<(Substring, Substring, Substring?)> { #/\S+ (ARP, .*|IP6? .*: (Flags \[[^\]]*\].*, length \d+|UDP, length \d+|ICMP6?,? .*))/# }
    /// What -v prints that capture does not decode yet: neighbor discovery and mobile IPv6
    /// options, IPv6 extension headers' options, ICMP multi-part extensions.
    static var notYetDecoded: Regex<(Substring, Substring?, Substring?)> { #/ICMP6, (router|neighbor|redirect|mobile router advertisement|ha discovery reply)|next-header (Options|Routing|Fragment)|ICMP Multi-Part/# }

    @Test func verboseLinesAsTcpdump() throws {
        guard let (corpus, tcpdump) = CaptureCLITests.peers() else { return }
        var compared = 0
        for name in try FileManager.default.contentsOfDirectory(atPath: corpus.path).sorted() {
            let file = corpus.appendingPathComponent(name).path
            let theirLines = Self.packets(try Subprocess.run(tcpdump, ["-n", "-r", file]).text)
            let ourLines = Self.packets(try CLITests.swiftbpf(["capture", "-r", file]).stdout)
            let theirs = Self.packets(try Subprocess.run(tcpdump, ["-n", "-v", "-r", file]).text)
            let ours = Self.packets(try CLITests.swiftbpf(["capture", "-v", "-r", file]).stdout)
            guard Set([theirLines.count, ourLines.count, theirs.count]).count == 1 else { continue }
            #expect(ours.count == theirs.count, "\(name): \(ours.count) packets with -v, tcpdump \(theirs.count)")
            guard ours.count == theirs.count else { continue }
            for index in theirs.indices {
                let line = theirLines[index]
                guard line == ourLines[index], line.wholeMatch(of: Self.inScope) != nil,
                      theirs[index].firstMatch(of: Self.notYetDecoded) == nil,
                      theirs[index].split(separator: "IP (").count <= 2, theirs[index].split(separator: "IP6 (").count <= 2
                else { continue }
                compared += 1
                #expect(ours[index] == theirs[index], "\(name) packet \(index + 1)")
            }
        }
        print("capture -v: \(compared) packets compared with tcpdump -v")
        #expect(compared > 3000, "only \(compared) packets compared")
    }

    /// -vv checks UDP checksums over IPv4 too; -vvv is accepted; -vvvv is not.
    @Test func moreVerbose() throws {
        guard let (corpus, tcpdump) = CaptureCLITests.peers() else { return }
        let file = corpus.appendingPathComponent("dns_udp.pcap").path
        for option in ["-vv", "-vvv"] {
            let theirs = try Subprocess.run(tcpdump, ["-n", option, "-r", file]).text
            let ours = try CLITests.swiftbpf(["capture", option, "-r", file])
            #expect(ours.status == 0 && ours.stdout.contains("[udp sum ok]"), "\(option): \(ours.stderr)")
            // DNS prints more with -vv, which capture does not decode: compare up to the checksum.
            let head = { (packet: String) in packet.range(of: "sum ok]").map { String(packet[..<$0.upperBound]) } ?? packet }
            #expect(Self.packets(ours.stdout).map(head) == Self.packets(theirs).map(head), "\(option)")
        }
        let refused = try CLITests.swiftbpf(["capture", "-vvvv", "-r", file])
        #expect(refused.status != 0 && refused.stderr.contains("-v"))
    }
}
