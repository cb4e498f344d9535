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
                // The same text with Windows line breaks, and --ddd spelled as filter takes it.
                let windows = text.replacingOccurrences(of: "\n", with: "\r\n")
                let crlf = try CLITests.swiftbpf(["classic", "-", "--ddd"], stdin: windows)
                #expect(crlf.status == 0 && crlf.stdout == decimal, "\(expression) \(form) CRLF: \(crlf.stderr)")
            }
        }
        // No expression keeps every packet, as tcpdump -d prints it.
        let everything = try CLITests.swiftbpf(["filter"]), theirs = try Subprocess.run(tcpdump, ["-d", "-r", file])
        #expect(everything.status == 0 && everything.stdout == theirs.text)
        let directory = try CLITests.swiftbpf(["classic", "/tmp"])
        #expect(directory.status != 0 && directory.stderr.contains("/tmp: is a directory"), "\(directory.stderr)")
    }

    /// --ebpf keeps Linux's rules unless --rules libpcap asks for bpf_filter's, which differ
    /// for shifts by X of 32 or more and for [x + k] past 2^32.
    @Test func translationRulesAreChosen() throws {
        for text in ["ldb [0]\ntax\nldb [1]\nlsh x\nret a\n", "ldx #0xffffffff\nldh [x + 13]\nret a\n"] {
            let linux = try CLITests.swiftbpf(["classic", "-", "--ebpf"], stdin: text)
            let libpcap = try CLITests.swiftbpf(["classic", "-", "--ebpf", "--rules", "libpcap"], stdin: text)
            #expect(linux.status == 0 && libpcap.status == 0, "\(linux.stderr) \(libpcap.stderr)")
            #expect(try CLITests.swiftbpf(["classic", "-", "--ebpf", "--rules", "linux"], stdin: text).stdout == linux.stdout)
            #expect(linux.stdout != libpcap.stdout && libpcap.stdout.count > linux.stdout.count, "\(text)")
        }
        let alone = try CLITests.swiftbpf(["filter", "--rules", "libpcap", "tcp"])
        #expect(alone.status != 0 && alone.stderr.contains("--rules applies to the --ebpf translation"), "\(alone.stderr)")
        let unreadable = try CLITests.swiftbpf(["classic", "-", "--ebpf"], stdin: "ld #hatype\nret a\n")
        #expect(unreadable.status != 0 && unreadable.stderr.contains("cannot read the ancillary field hatype"), "\(unreadable.stderr)")
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
        // The eBPF socket filter reads the ancillary fields from the socket buffer, as the
        // kernel runs the classic program: skb->protocol is at 16 and vlan_present a test of
        // skb->vlan_tci, never the constant 0 of a load outside the packet.
        let accepted = try CLITests.swiftbpf(["classic", "-", "--ebpf"], stdin: "ld #proto\nldb #vlan_avail\nret a\n")
        #expect(accepted.status == 0 && accepted.stdout.contains("r0 = *(u32 *)(r6 + 16)"), "\(accepted.stdout) \(accepted.stderr)")
    }
}
