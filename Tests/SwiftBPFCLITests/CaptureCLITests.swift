import Foundation
import Glibc
import TestPeers
import Testing

/// `swiftbpf capture -r` against `tcpdump -r` on the shared captures: the same packets match
/// each expression, the lines agree wherever our decoder understood the whole packet, and a
/// file written with -w reads back in tcpdump as the same packets.
@Suite struct CaptureCLITests {
    static let cases: [(file: String, expression: String)] = [
        ("dns_udp.pcap", "udp port 53"),
        ("dns_udp.pcap", ""),
        ("arp-oobr.pcap", "arp"),
        ("802.1ad_QinQ.pcap", "arp or vlan"),
        ("LINKTYPE_RAW_ipv6.pcap", "ip6"),
        ("ssh.pcap", "tcp[tcpflags] & (tcp-syn|tcp-fin) != 0"),
        ("dns_tcp.pcap", "tcp port 53 and greater 100"),
        ("icmpv6.pcap", "icmp6"),
        // BSD loopback from macOS: the filter checks the file's byte order and every BSD's AF_INET6.
        ("quic_retry.pcap", "ip6 and udp port 443"),
        ("quic_handshake.pcap", "ip or ip6 host ::1"),
        ("dns_tcp.pcap", "tcp[tcpflags] & tcp-syn != 0 or src net 192.168.0.0/16"),
    ]

    static var corpus: URL? {
        let shared = ProcessInfo.processInfo.environment["SWIFTBPF_SHARED"].map { URL(fileURLWithPath: $0) }
            ?? CLITests.root.deletingLastPathComponent().appendingPathComponent("shared")
        let folder = shared.appendingPathComponent("pcaps/tcpdump")
        return FileManager.default.fileExists(atPath: folder.path) ? folder : nil
    }

    static var tcpdump: String? {
        ["/usr/bin/tcpdump", "/usr/sbin/tcpdump", "/usr/local/sbin/tcpdump"].first { FileManager.default.isExecutableFile(atPath: $0) }
    }

    /// The corpus and tcpdump, or nil (an issue when CI requires them).
    static func peers() -> (URL, String)? {
        guard let corpus, let tcpdump else {
            if ProcessInfo.processInfo.environment["SWIFTBPF_REQUIRE_PEERS"] == "1" {
                Issue.record("the capture corpus or tcpdump is missing and SWIFTBPF_REQUIRE_PEERS=1")
            } else {
                print("skipped: needs ../shared/pcaps/tcpdump and tcpdump")
            }
            return nil
        }
        return (corpus, tcpdump)
    }

    /// Lines by bytes (a Character split would join "\r\n"), without tcpdump's hex dumps of
    /// packets it cannot dissect, which are indented with a tab.
    static func lines(_ text: String) -> [String] {
        text.utf8.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false).dropLast().map { String(decoding: $0, as: UTF8.self) }.filter { !$0.hasPrefix("\t") }
    }

    @Test(arguments: cases.indices) func readMatchesTcpdump(_ index: Int) throws {
        guard let (corpus, tcpdump) = Self.peers() else { return }
        let (name, expression) = Self.cases[index]
        let file = corpus.appendingPathComponent(name).path
        let words = expression.split(separator: " ").map(String.init)
        let theirs = try Subprocess.run(tcpdump, ["-n", "-t", "-r", file] + words)
        let ours = try CLITests.swiftbpf(["capture", "-r", file, "-t"] + words)
        let json = try CLITests.swiftbpf(["capture", "-r", file, "-t", "--json"] + words)
        #expect(ours.status == 0 && json.status == 0, "\(ours.stderr)")
        let expected = Self.lines(theirs.text), actual = Self.lines(ours.stdout), objects = Self.lines(json.stdout)
        #expect(actual.count == expected.count, "\(name) '\(expression)': \(actual.count) packets, tcpdump \(expected.count)")
        #expect(objects.count == actual.count)
        var compared = 0
        for (position, (line, object)) in zip(actual, objects).enumerated() where position < expected.count {
            // Lines are compared where the decoder took apart every layer it met.
            guard !object.contains("\"undecoded\"") else { continue }
            compared += 1
            #expect(line == expected[position], "\(name) '\(expression)' packet \(position + 1)")
        }
        #expect(compared > 0, "\(name) '\(expression)': no packet in the decoder's scope")
    }

    /// Timestamps in local time, as tcpdump prints them, in zones a whole number of hours
    /// and half an hour from UTC.
    @Test(arguments: ["UTC", "America/New_York", "Asia/Kolkata"])
    func timestampsInLocalTimeAsTcpdump(zone: String) throws {
        guard let (corpus, tcpdump) = Self.peers() else { return }
        let file = corpus.appendingPathComponent("dns_udp.pcap").path
        let theirs = try Subprocess.run("/usr/bin/env", ["TZ=\(zone)", tcpdump, "-n", "-r", file])
        let ours = try Subprocess.run("/usr/bin/env", ["TZ=\(zone)", CLITests.executable.path, "capture", "-r", file])
        let expected = Self.lines(theirs.text).map { $0.prefix(15) }, actual = Self.lines(ours.text).map { $0.prefix(15) }
        #expect(ours.status == 0 && !actual.isEmpty, "\(ours.errors)")
        #expect(actual == expected, "TZ=\(zone)")
    }

    /// Linux cooked v2 packets print the name of this machine's interface of their index (lo
    /// is always 1; an index no interface has prints `?`), as tcpdump prints them.
    @Test func cookedV2PacketsNameTheInterface() throws {
        guard let (_, tcpdump) = Self.peers() else { return }
        var file = Data()
        func append<T: FixedWidthInteger>(_ value: T, bigEndian: Bool = false) {
            withUnsafeBytes(of: bigEndian ? value.bigEndian : value.littleEndian) { file.append(contentsOf: $0) }
        }
        // pcap header: LINKTYPE_LINUX_SLL2 (276).
        append(UInt32(0xa1b2_c3d4)); append(UInt16(2)); append(UInt16(4)); append(UInt32(0)); append(UInt32(0))
        append(UInt32(262_144)); append(UInt32(276))
        let udp: [UInt8] = [0x45, 0, 0, 28, 0, 1, 0, 0, 64, 17, 0xf9, 0xd8, 10, 0, 0, 1, 10, 0, 0, 2, 0x04, 0xd2, 0, 53, 0, 8, 0, 0]
        for (index, (interface, packetType)) in [(UInt32(1), UInt8(0)), (99_999, 4), (1, 1)].enumerated() {
            var packet = Data()
            withUnsafeBytes(of: UInt16(0x0800).bigEndian) { packet.append(contentsOf: $0) }
            packet.append(contentsOf: [0, 0])
            withUnsafeBytes(of: interface.bigEndian) { packet.append(contentsOf: $0) }
            packet.append(contentsOf: [0, 1, packetType, 6, 0, 1, 2, 3, 4, 5, 0, 0] + udp)
            append(UInt32(1_700_000_000 + index)); append(UInt32(5)); append(UInt32(packet.count)); append(UInt32(packet.count))
            file.append(packet)
        }
        let path = try CLITests.temporaryFile("cooked-v2.pcap", file).path
        let theirs = try Subprocess.run(tcpdump, ["-n", "-r", path])
        let ours = try CLITests.swiftbpf(["capture", "-r", path])
        #expect(ours.status == 0, "\(ours.stderr)")
        #expect(Self.lines(ours.stdout) == Self.lines(theirs.text))
        #expect(Self.lines(ours.stdout).first?.contains(" lo    In  IP 10.0.0.1.1234 > 10.0.0.2.53") == true)
        #expect(Self.lines(ours.stdout).dropFirst().first?.contains(" ?     Out IP ") == true)
        #expect(ours.stderr.contains("interface names might be incorrect"))
    }

    /// `-r -` reads standard input and `-w -` writes standard output, as for tcpdump.
    @Test func standardInputAndOutput() throws {
        guard let (corpus, _) = Self.peers() else { return }
        let file = corpus.appendingPathComponent("dns_udp.pcap")
        let fromFile = try CLITests.swiftbpf(["capture", "-r", file.path, "-t", "udp"])
        let piped = try Subprocess.run(CLITests.executable.path, ["capture", "-r", "-", "-t", "udp"], input: try Data(contentsOf: file))
        #expect(piped.status == 0 && !piped.text.isEmpty, "\(piped.errors)")
        #expect(piped.text == fromFile.stdout)
        let written = try CLITests.temporaryFile("stdout-copy.pcap", Data())
        #expect(try CLITests.swiftbpf(["capture", "-r", file.path, "-w", written.path, "udp"]).status == 0)
        let toStandardOutput = try Subprocess.run(CLITests.executable.path, ["capture", "-r", file.path, "-w", "-", "udp"])
        #expect(toStandardOutput.status == 0)
        #expect(toStandardOutput.output == (try Data(contentsOf: written)))
    }

    @Test func writtenFileReadsBackInTcpdump() throws {
        guard let (corpus, tcpdump) = Self.peers() else { return }
        let file = corpus.appendingPathComponent("dns_udp.pcap").path
        let output = try CLITests.temporaryFile("matches.pcap", Data())
        let written = try CLITests.swiftbpf(["capture", "-r", file, "-w", output.path, "-c", "1", "udp"])
        #expect(written.status == 0 && written.stdout.isEmpty, "\(written.stderr)")
        let back = try Subprocess.run(tcpdump, ["-n", "-r", output.path])
        let original = try Subprocess.run(tcpdump, ["-n", "-c", "1", "-r", file, "udp"])
        #expect(back.status == 0 && !back.text.isEmpty)
        #expect(back.text == original.text)
        #expect(back.errors.contains("link-type EN10MB"))
        // Every packet, byte for byte: tcpdump copies both files to pcap the same way.
        let all = try CLITests.temporaryFile("all.pcap", Data())
        #expect(try CLITests.swiftbpf(["capture", "-r", file, "-w", all.path]).status == 0)
        let copyOfOurs = try Subprocess.run(tcpdump, ["-r", all.path, "-w", "-"])
        let copyOfOriginal = try Subprocess.run(tcpdump, ["-r", file, "-w", "-"])
        #expect(copyOfOurs.output == copyOfOriginal.output)
    }

    @Test func dumpsTheFilterForTheFilesLinkType() throws {
        guard let (corpus, tcpdump) = Self.peers() else { return }
        let file = corpus.appendingPathComponent("LINKTYPE_RAW_ipv6.pcap").path
        for flag in ["-d", "-dd", "-ddd"] {
            let ours = try CLITests.swiftbpf(["capture", "-r", file, flag, "ip6", "and", "tcp"])
            let theirs = try Subprocess.run(tcpdump, ["-r", file, flag, "ip6 and tcp"])
            #expect(ours.status == 0 && ours.stdout == theirs.text, "\(flag): \(ours.stdout) vs \(theirs.text)")
        }
    }

    /// Without -i or -r, both pick the same interface and compile for its link type.
    @Test func dumpsTheFilterForTheDefaultInterface() throws {
        guard geteuid() == 0 else {
            #expect(ProcessInfo.processInfo.environment["SWIFTBPF_REQUIRE_KERNEL"] != "1", "tcpdump -d without -i opens an interface: needs root")
            return
        }
        guard let (_, tcpdump) = Self.peers() else { return }
        for flag in ["-d", "-ddd"] {
            let ours = try CLITests.swiftbpf(["capture", flag, "tcp", "port", "80"])
            let theirs = try Subprocess.run(tcpdump, [flag, "tcp port 80"])
            #expect(theirs.status == 0, "\(theirs.errors)")
            #expect(ours.status == 0 && ours.stdout == theirs.text, "\(flag): \(ours.stdout) \(ours.stderr) vs \(theirs.text)")
        }
    }

    /// `-i lo -c 3` while datagrams go to two ports: the three to the filtered port print,
    /// and the counters follow on stderr.
    @Test func liveCaptureOnLoopback() throws {
        guard geteuid() == 0 else {
            #expect(ProcessInfo.processInfo.environment["SWIFTBPF_REQUIRE_KERNEL"] != "1", "live capture needs root")
            return
        }
        let process = Process()
        process.executableURL = CLITests.executable
        process.arguments = ["capture", "-i", "lo", "-c", "3", "-t", "udp", "dst", "port", "9994"]
        let output = Pipe(), errors = Pipe()
        process.standardOutput = output
        process.standardError = errors
        try process.run()
        defer { if process.isRunning { process.terminate() } }
        let sender = socket(AF_INET, Int32(SOCK_DGRAM.rawValue), 0)
        defer { close(sender) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = UInt32(0x7f00_0001).bigEndian
        // Until the capture has started and taken three, send one of each a tenth of a second.
        for round in 0..<100 where process.isRunning {
            for port in [UInt16(9993), 9994] {
                address.sin_port = port.bigEndian
                let payload = Array("round \(round)".utf8)
                _ = payload.withUnsafeBytes { bytes in
                    withUnsafePointer(to: &address) {
                        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                            sendto(sender, bytes.baseAddress, bytes.count, 0, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
                        }
                    }
                }
            }
            usleep(100_000)
        }
        let printed = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        let report = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        #expect(process.terminationStatus == 0, "\(report)")
        let lines = Self.lines(printed)
        #expect(lines.count == 3)
        for line in lines {
            #expect(line.hasPrefix("IP 127.0.0.1.") && line.contains(" > 127.0.0.1.9994: UDP, length "), "\(line)")
        }
        #expect(report.contains("listening on lo, link-type ETHERNET"))
        #expect(report.contains("3 packets captured\n"), "\(report)")
        #expect(report.contains("packets received by filter\n") && report.contains("0 packets dropped by kernel"))
    }

    @Test func mistakesGiveOneLineErrors() throws {
        let cases: [([String], String)] = [
            (["capture", "-i", "lo", "-r", "/nonexistent.pcap"], "give either -i INTERFACE or -r FILE, not both"),
            (["capture", "-r", "/nonexistent.pcap"], "cannot read /nonexistent.pcap"),
            (["capture", "-r", "Package.swift"], "capture: Package.swift:"),
            (["capture", "-r", "/nonexistent.pcap", "-c", "0"], "-c must be at least 1"),
            (["capture", "-i", "nosuchinterface0"], "nosuchinterface0"),
        ]
        for (arguments, message) in cases {
            let result = try CLITests.swiftbpf(arguments)
            #expect(result.status != 0, "\(arguments)")
            #expect(result.stderr.contains(message), "\(arguments): \(result.stderr)")
            #expect(!result.stderr.contains("Fatal error"))
        }
        guard let (corpus, _) = Self.peers() else { return }
        let bad = try CLITests.swiftbpf(["capture", "-r", corpus.appendingPathComponent("dns_udp.pcap").path, "tcp", "port", "99999"])
        #expect(bad.status != 0 && bad.stderr.contains("99999"), "\(bad.stderr)")
        // A filter that can match nothing is a mistake, as tcpdump says; unoptimized, it runs.
        let never = ["ip", "and", "ip6"]
        let refused = try CLITests.swiftbpf(["capture", "-r", corpus.appendingPathComponent("dns_udp.pcap").path] + never)
        #expect(refused.status != 0 && refused.stderr.contains("expression rejects all packets"), "\(refused.stderr)")
        let filter = try CLITests.swiftbpf(["filter", never.joined(separator: " ")])
        #expect(filter.status != 0 && filter.stderr.contains("expression rejects all packets"), "\(filter.stderr)")
        #expect(try CLITests.swiftbpf(["filter", "--no-optimize", never.joined(separator: " ")]).status == 0)
    }
}
