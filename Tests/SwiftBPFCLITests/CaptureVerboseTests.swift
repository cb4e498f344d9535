import Foundation
import TestPeers
import Testing

/// `capture -v`, `-vv` and `-vvv` against tcpdump with the same option (and -n) over the
/// whole corpus, packet by packet (a packet is its line and the indented lines under it).
@Suite struct CaptureVerboseTests {
    /// Packets as tcpdump prints them with -v: each line with the continuation lines under
    /// it.
    static func packets(_ text: String) -> [String] {
        var packets: [String] = []
        for line in text.split(separator: "\n", omittingEmptySubsequences: true) {
            if line.hasPrefix(" ") || line.hasPrefix("\t") {
                if !packets.isEmpty { packets[packets.count - 1] += "\n" + line }
            } else {
                packets.append(String(line))
            }
        }
        return packets
    }

    /// Every packet whose -n line is tcpdump's and whose every layer capture decodes (its
    /// JSON with the same option names no undecoded layer) prints with -v, -vv and -vvv as
    /// tcpdump prints it with the same option.
    @Test(arguments: ["-v", "-vv", "-vvv"]) func verboseLinesAsTcpdump(option: String) throws {
        guard let (corpus, tcpdump) = CaptureCLITests.peers() else { return }
        var compared = 0
        // tcpdump adds a hex dump of some data it does not dissect, where capture prints none.
        var withoutHex: [String: Int] = [:]
        func hexLeftOut(_ packet: String) -> String {
            packet.split(separator: "\n").filter { !$0.hasPrefix("\t0x") }.joined(separator: "\n")
        }
        for name in try FileManager.default.contentsOfDirectory(atPath: corpus.path).sorted() {
            let file = corpus.appendingPathComponent(name).path
            let theirLines = Self.packets(try Subprocess.run(tcpdump, ["-n", "-r", file]).text)
            let ourLines = Self.packets(try CLITests.swiftbpf(["capture", "-n", "-r", file]).stdout)
            guard theirLines.count == ourLines.count else { continue }
            let theirs = Self.packets(try Subprocess.run(tcpdump, ["-n", option, "-r", file]).text)
            let ours = Self.packets(try CLITests.swiftbpf(["capture", "-n", option, "-r", file]).stdout)
            let decoded = try CLITests.swiftbpf(["capture", "-n", option, "--json", "-r", file]).stdout
                .split(separator: "\n").map { !$0.contains("\"undecoded\"") }
            // tcpdump prints as many packets as without the option, except where it dies on one
            // (or, with -vvv, prints the frames OpenFlow messages carry on lines of their own).
            guard theirs.count == theirLines.count else { continue }
            #expect(ours.count == theirs.count && decoded.count == theirs.count, "\(name): \(ours.count) packets with \(option), tcpdump \(theirs.count)")
            guard ours.count == theirs.count, decoded.count == theirs.count else { continue }
            for index in theirs.indices where theirLines[index] == ourLines[index] && decoded[index] {
                compared += 1
                var expected = theirs[index]
                if expected.contains("\n\t0x") && !ours[index].contains("\n\t0x") {
                    withoutHex[name, default: 0] += 1
                    expected = hexLeftOut(expected)
                }
                #expect(ours[index] == expected, "\(name) packet \(index + 1) with \(option)")
            }
        }
        let hexFiles = withoutHex.sorted { $0.value > $1.value }.prefix(5).map { "\($0.key) \($0.value)" }
        print("capture \(option): \(compared) packets compared with tcpdump \(option); \(withoutHex.values.reduce(0, +)) of them without the hex dump tcpdump adds for data it does not dissect"
              + (hexFiles.isEmpty ? "" : " (most in \(hexFiles.joined(separator: ", ")))"))
        #expect(compared > 5000, "only \(compared) packets compared with \(option)")
    }

    /// -K leaves the IPv4 header's, TCP's and UDP's checksums unchecked, as tcpdump -K.
    @Test(arguments: ["mptcp-v0.pcap", "ssh.pcap", "zmtp1.pcap"])
    func checksumsLeftUnchecked(name: String) throws {
        guard let (corpus, tcpdump) = CaptureCLITests.peers() else { return }
        let file = corpus.appendingPathComponent(name).path
        let theirs = try Subprocess.run(tcpdump, ["-n", "-v", "-K", "-r", file]).text
        let ours = try CLITests.swiftbpf(["capture", "-n", "-v", "-K", "-r", file]).stdout
        #expect(!ours.contains("cksum 0x") && ours == theirs)
    }

    /// With -e, the IP header an ICMP error quotes prints with neither `IP ` nor `ip: `,
    /// as tcpdump -v -e prints it.
    @Test func quotedHeadersWithLinkHeaders() throws {
        guard let (corpus, tcpdump) = CaptureCLITests.peers() else { return }
        let file = corpus.appendingPathComponent("afs.pcap").path
        let quoted = { (text: String) in text.split(separator: "\n").filter { $0.hasPrefix("\t(") || $0.hasPrefix("\tip: ") } }
        let ours = quoted(try CLITests.swiftbpf(["capture", "-n", "-v", "-e", "-r", file]).stdout)
        let theirs = quoted(try Subprocess.run(tcpdump, ["-n", "-v", "-e", "-r", file]).text)
        #expect(theirs.count > 20 && ours == theirs, "\(ours.count) quoted headers, tcpdump \(theirs.count)")
    }

    /// -vv checks UDP checksums over IPv4 too and prints all of a DNS message's sections;
    /// -vvv its records' times to live; -vvvv is refused.
    @Test func moreVerbose() throws {
        guard let (corpus, tcpdump) = CaptureCLITests.peers() else { return }
        let file = corpus.appendingPathComponent("dns_udp.pcap").path
        for option in ["-vv", "-vvv"] {
            let theirs = try Subprocess.run(tcpdump, ["-n", option, "-r", file]).text
            let ours = try CLITests.swiftbpf(["capture", "-n", option, "-r", file])
            #expect(ours.status == 0 && ours.stdout.contains("[udp sum ok]") && ours.stdout.contains(" q: "), "\(option): \(ours.stderr)")
            #expect(Self.packets(ours.stdout) == Self.packets(theirs), "\(option)")
        }
        let refused = try CLITests.swiftbpf(["capture", "-n", "-vvvv", "-r", file])
        #expect(refused.status != 0 && refused.stderr.contains("-v"))
    }
}
