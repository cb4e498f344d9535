import Foundation
import TestPeers
import Testing

/// `swiftbpf classic`: tcpdump's own text read back, checked and printed again.
@Suite("swiftbpf classic")
struct ClassicCLITests {
    /// tcpdump's -d listing (and its -dd array) of each expression assembles to exactly the
    /// instructions tcpdump -ddd prints.
    @Test func assemblesWhatTcpdumpPrints() throws {
        guard let (corpus, tcpdump) = CaptureCLITests.peers() else { return }
        let file = corpus.appendingPathComponent("dns_udp.pcap").path
        for expression in ["tcp port 80", "udp and not port 53", "ip[2:2] > 576", "ether multicast or vlan 10", "tcp[tcpflags] & tcp-syn != 0"] {
            let decimal = try Subprocess.run(tcpdump, ["-ddd", "-r", file, expression]).text
            for form in ["-d", "-dd"] {
                let text = try Subprocess.run(tcpdump, [form, "-r", file, expression]).text
                let ours = try CLITests.swiftbpf(["classic", "-", "-ddd"], stdin: text)
                #expect(ours.status == 0 && ours.stdout == decimal, "\(expression) \(form): \(ours.stderr)")
            }
        }
    }

    @Test func refusesWhatTheKernelRefuses() throws {
        let cases: [(String, String)] = [
            ("ld #proto\njeq #0x800 jt 2 jf 3\nret #-1\n", "jump to 3 is past the last instruction"),
            ("ld M[0]\nret a\n", "reads M[0], which some path to here leaves unwritten"),
            ("ld #1\ndiv #0\nret a\n", "division by the constant 0"),
            ("ldh [12]\n", "the last instruction must be ret"),
            ("ldh [frob]\nret a\n", "unknown ancillary field"),
        ]
        for (text, message) in cases {
            let result = try CLITests.swiftbpf(["classic", "-"], stdin: text)
            #expect(result.status != 0 && result.stderr.contains(message), "\(text): \(result.stderr)")
            #expect(!result.stderr.contains("Fatal error"))
        }
        let accepted = try CLITests.swiftbpf(["classic", "-", "--ebpf"], stdin: "ld #proto\nldb #vlan_avail\nret a\n")
        #expect(accepted.status == 0 && !accepted.stdout.isEmpty, "\(accepted.stderr)")
    }
}
