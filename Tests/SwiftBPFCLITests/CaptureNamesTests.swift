import Foundation
import TestPeers
import Testing

/// `capture` without -n against `tcpdump` without -n: host names by reverse lookup, ports by
/// service, Ethernet addresses with their maker. Both run in a mount namespace whose hosts
/// file names every IPv4 address the compared files hold and whose resolver is a closed port,
/// so that the names are the test's, not this machine's DNS.
@Suite struct CaptureNamesTests {
    /// A hosts file naming each of `addresses` (`h1.example.org`, …) after this machine's own
    /// lines, and a resolver that answers nothing; the command line that runs a program with
    /// them in place of /etc/hosts and /etc/resolv.conf.
    static func namespace(naming addresses: [String], in folder: URL) throws -> [String] {
        let hosts = folder.appendingPathComponent("hosts"), resolver = folder.appendingPathComponent("resolv.conf")
        let own = (try? String(contentsOfFile: "/etc/hosts", encoding: .utf8)) ?? ""
        let named = addresses.enumerated().map { "\($0.element) h\($0.offset + 1).example.org\n" }.joined()
        try (own + "\n" + named).write(to: hosts, atomically: true, encoding: .utf8)
        try "nameserver 127.0.0.1\n".write(to: resolver, atomically: true, encoding: .utf8)
        let script = "mount --bind '\(hosts.path)' /etc/hosts && mount --bind '\(resolver.path)' /etc/resolv.conf && exec \"$@\""
        return ["/usr/bin/unshare", "-m", "/bin/sh", "-c", script, "sh"]
    }

    static let files = [
        "IGMP_V1.pcap", "IGMP_V2.pcap", "igmpv3-queries.pcap", "vrrp.pcap", "EIGRP_subnet_up.pcap", "mptcp-aa-v1.pcap",
        "HSRP_coup.pcap", "dns_udp.pcap", "icmpv6-RFC2894-RR.pcap", "arp-too-long-tha.pcap", "mptcp-v1.pcap", "ssh.pcap",
    ]

    /// Files whose -n output is tcpdump's print as tcpdump's without -n, at every -v level and
    /// with -e, with every IPv4 address named.
    @Test func namesAsTcpdump() throws {
        guard CLITests.isRoot("a mount namespace"), let (corpus, tcpdump) = CaptureCLITests.peers() else { return }
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("swiftbpf-names-\(getpid())")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let paths = Self.files.map { corpus.appendingPathComponent($0).path }
        var addresses: Set<String> = []
        for path in paths {
            let text = try Subprocess.run(tcpdump, ["-n", "-vv", "-r", path]).text
            for match in text.matches(of: /\b\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}\b/) { addresses.insert(String(match.output)) }
        }
        let prefix = try Self.namespace(naming: addresses.sorted(), in: folder)
        var compared = 0, named = 0
        for path in paths {
            for options in [["-e"], ["-v"], ["-vv", "-e"]] {
                let theirNumbers = try Subprocess.run(tcpdump, ["-n", "-r", path] + options).text
                let ourNumbers = try CLITests.swiftbpf(["capture", "-n", "-r", path] + options).stdout
                #expect(ourNumbers == theirNumbers, "\(path) \(options) with -n")
                guard ourNumbers == theirNumbers else { continue }
                let theirs = try Subprocess.run(prefix[0], Array(prefix.dropFirst()) + [tcpdump, "-r", path] + options)
                let ours = try Subprocess.run(prefix[0], Array(prefix.dropFirst()) + [CLITests.executable.path, "capture", "-r", path] + options)
                #expect(theirs.status == 0 && ours.status == 0, "\(theirs.errors) \(ours.errors)")
                compared += 1
                if theirs.text != theirNumbers { named += 1 }
                #expect(ours.text == theirs.text, "\(path) \(options)")
            }
        }
        print("capture without -n: \(compared) file outputs compared with tcpdump's, \(named) of them with names, \(addresses.count) addresses named")
        #expect(named > 20, "\(named) of \(compared) outputs with names")
    }
}
