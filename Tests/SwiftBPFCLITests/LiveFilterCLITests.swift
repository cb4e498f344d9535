import Foundation
import Glibc
import TestPeers
import Testing

/// `swiftbpf capture -i IF -d` and `swiftbpf filter --live` print the program for a live
/// socket, the one capture -i attaches in the kernel; `filter` alone prints the capture
/// file's. Where libpcap's live program is laid out as ours, the text is tcpdump's.
@Suite struct LiveFilterCLITests {
    static func output(_ arguments: [String]) throws -> CLITests.Output { try CLITests.swiftbpf(arguments) }

    @Test func captureAndFilterLivePrintTheSameLiveProgram() throws {
        for expression in ["vlan 5 and udp port 9", "not vlan", "ip and vlan or udp", "outbound", "ifindex 3 and tcp"] {
            let capture = try Self.output(["capture", "-n", "-i", "lo", "-d", expression])
            let live = try Self.output(["filter", "--live", "-d", expression])
            #expect(capture.status == 0 && live.status == 0, "\(expression): \(capture.stderr)\(live.stderr)")
            #expect(capture.stdout == live.stdout, "\(expression)")
            #expect(capture.stderr.isEmpty, "\(expression): \(capture.stderr)")
        }
        let vlan = try Self.output(["filter", "--live", "-d", "vlan 5"])
        #expect(vlan.stdout.contains("[vlanp]") && vlan.stdout.contains("[vlan_tci]"), "\(vlan.stdout)")
        let file = try Self.output(["filter", "-d", "vlan 5"])
        #expect(file.status == 0 && !file.stdout.contains("[vlanp]"), "\(file.stdout)")
        // The eBPF form reads the kernel's __sk_buff: vlan_present at 20, vlan_tci at 24.
        let ebpf = try Self.output(["filter", "--live", "--ebpf", "vlan 5"])
        #expect(ebpf.stdout.contains("(r6 + 20)") && ebpf.stdout.contains("(r6 + 24)"), "\(ebpf.stdout)")
    }

    @Test func directionNeedsALiveSocket() throws {
        let file = try Self.output(["filter", "inbound"])
        #expect(file.status != 0 && file.stderr.contains("not supported on Ethernet when reading savefiles"), "\(file.stderr)")
        let live = try Self.output(["filter", "--live", "inbound"])
        #expect(live.status == 0 && live.stdout.contains("ldh      [type]"), "\(live.stdout)\(live.stderr)")
    }

    /// tcpdump opens the interface to print its live program, which needs root.
    @Test func sameTextAsTcpdumpWhereLaidOutAlike() throws {
        guard let tcpdump = CaptureCLITests.tcpdump, geteuid() == 0 else {
            let required = ["SWIFTBPF_REQUIRE_KERNEL", "SWIFTBPF_REQUIRE_PEERS"].contains { ProcessInfo.processInfo.environment[$0] == "1" }
            if required { Issue.record("tcpdump -i lo -d needs tcpdump and root, and a peer or the kernel is required") }
            print("skipped: tcpdump -i lo -d needs tcpdump and root")
            return
        }
        for expression in ["outbound", "ifindex 3", "vlan"] {
            let theirs = try Subprocess.run(tcpdump, ["-i", "lo", "-d", "--", expression])
            let ours = try Self.output(["capture", "-n", "-i", "lo", "-d", expression])
            #expect(theirs.status == 0 && ours.status == 0, "\(expression): \(theirs.errors)\(ours.stderr)")
            #expect(ours.stdout == theirs.text, "\(expression)")
        }
    }
}
