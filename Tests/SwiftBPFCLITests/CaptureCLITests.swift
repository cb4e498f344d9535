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
        let ours = try CLITests.swiftbpf(["capture", "-n", "-r", file, "-t"] + words)
        let json = try CLITests.swiftbpf(["capture", "-n", "-r", file, "-t", "--json"] + words)
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
        let ours = try Subprocess.run("/usr/bin/env", ["TZ=\(zone)", CLITests.executable.path, "capture", "-n", "-r", file])
        let expected = Self.lines(theirs.text).map { $0.prefix(15) }, actual = Self.lines(ours.text).map { $0.prefix(15) }
        #expect(ours.status == 0 && !actual.isEmpty, "\(ours.errors)")
        #expect(actual == expected, "TZ=\(zone)")
    }

    /// Every -t level prints what tcpdump's prints, whole lines compared (`-c1` and `-r FILE`
    /// joined as tcpdump users write them).
    @Test(arguments: ["-t", "-tt", "-ttt", "-tttt", "-ttttt"])
    func timestampLevelsAsTcpdump(level: String) throws {
        guard let (corpus, tcpdump) = Self.peers() else { return }
        let file = corpus.appendingPathComponent("dns_udp.pcap").path
        let theirs = try Subprocess.run("/usr/bin/env", ["TZ=Asia/Kolkata", tcpdump, "-n", level, "-r", file])
        let ours = try Subprocess.run("/usr/bin/env", ["TZ=Asia/Kolkata", CLITests.executable.path, "capture", "-n", level, "-r" + file])
        #expect(ours.status == 0 && !ours.text.isEmpty, "\(ours.errors)")
        #expect(ours.text == theirs.text, "\(level)")
        let one = try CLITests.swiftbpf(["capture", "-n", "-c1", level, "-r", file])
        #expect(Self.lines(one.stdout).count == 1, "\(one.stderr)")
    }

    /// `swiftbpf filter` takes the expression as words and -d, -dd, -ddd as tcpdump does.
    @Test func filterPrintsAsTcpdump() throws {
        guard let (corpus, tcpdump) = Self.peers() else { return }
        let file = corpus.appendingPathComponent("dns_udp.pcap").path
        for flag in ["-d", "-dd", "-ddd"] {
            // An expression both compile to the same instructions, so that the text can be compared.
            let ours = try CLITests.swiftbpf(["filter", flag, "tcp", "port", "80"])
            let theirs = try Subprocess.run(tcpdump, ["-r", file, flag, "tcp port 80"])
            #expect(ours.status == 0 && ours.stdout == theirs.text, "\(flag): \(ours.stdout) \(ours.stderr) vs \(theirs.text)")
        }
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
        let ours = try CLITests.swiftbpf(["capture", "-n", "-r", path])
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
        let fromFile = try CLITests.swiftbpf(["capture", "-n", "-r", file.path, "-t", "udp"])
        let piped = try Subprocess.run(CLITests.executable.path, ["capture", "-n", "-r", "-", "-t", "udp"], input: try Data(contentsOf: file))
        #expect(piped.status == 0 && !piped.text.isEmpty, "\(piped.errors)")
        #expect(piped.text == fromFile.stdout)
        let written = try CLITests.temporaryFile("stdout-copy.pcap", Data())
        #expect(try CLITests.swiftbpf(["capture", "-n", "-r", file.path, "-w", written.path, "udp"]).status == 0)
        let toStandardOutput = try Subprocess.run(CLITests.executable.path, ["capture", "-n", "-r", file.path, "-w", "-", "udp"])
        #expect(toStandardOutput.status == 0)
        #expect(toStandardOutput.output == (try Data(contentsOf: written)))
    }

    @Test func writtenFileReadsBackInTcpdump() throws {
        guard let (corpus, tcpdump) = Self.peers() else { return }
        let file = corpus.appendingPathComponent("dns_udp.pcap").path
        let output = try CLITests.temporaryFile("matches.pcap", Data())
        let written = try CLITests.swiftbpf(["capture", "-n", "-r", file, "-w", output.path, "-c", "1", "udp"])
        #expect(written.status == 0 && written.stdout.isEmpty, "\(written.stderr)")
        let back = try Subprocess.run(tcpdump, ["-n", "-r", output.path])
        let original = try Subprocess.run(tcpdump, ["-n", "-c", "1", "-r", file, "udp"])
        #expect(back.status == 0 && !back.text.isEmpty)
        #expect(back.text == original.text)
        #expect(back.errors.contains("link-type EN10MB"))
        // Every packet, byte for byte: tcpdump copies both files to pcap the same way.
        let all = try CLITests.temporaryFile("all.pcap", Data())
        #expect(try CLITests.swiftbpf(["capture", "-n", "-r", file, "-w", all.path]).status == 0)
        let copyOfOurs = try Subprocess.run(tcpdump, ["-r", all.path, "-w", "-"])
        let copyOfOriginal = try Subprocess.run(tcpdump, ["-r", file, "-w", "-"])
        #expect(copyOfOurs.output == copyOfOriginal.output)
    }

    /// `-r F -w -` copies a pcap file as `tcpdump -r F -w -` does, byte for byte: the
    /// link-type field's high bits (an FCS length here) and record times whose fraction is a
    /// second or more, or negative as libpcap's signed field holds it (nanoseconds, which both
    /// scale down to microseconds).
    @Test(arguments: [false, true]) func copyKeepsHeaderAndRecordTimesAsTcpdump(nanoseconds: Bool) throws {
        guard let (_, tcpdump) = Self.peers() else { return }
        var bytes: [UInt8] = []
        func append(_ value: UInt32) { withUnsafeBytes(of: value.littleEndian) { bytes += $0 } }
        for field: UInt32 in [nanoseconds ? 0xa1b2_3c4d : 0xa1b2_c3d4, 0x0004_0002, 0, 0, 65535] { append(field) }
        append(0x2400_0001)  // Ethernet with a 2-word FCS: presence bit 26, length in bits 28-31
        let fractions: [UInt32] = nanoseconds
            ? [999_999_999, 1_000_000_000, 0x8000_0000, 0xffff_ffff]
            : [999_999, 1_000_000, 1_500_000, 0xffff_ffff]
        // A broadcast ARP request, padded to 60 bytes.
        let frame: [UInt8] = [UInt8](repeating: 0xff, count: 6) + [2, 0, 0, 0, 0, 1, 0x08, 0x06, 0, 1, 0x08, 0, 6, 4, 0, 1]
            + [2, 0, 0, 0, 0, 1, 192, 0, 2, 1] + [UInt8](repeating: 0, count: 6) + [192, 0, 2, 2] + [UInt8](repeating: 0, count: 18)
        for (index, fraction) in fractions.enumerated() {
            for field in [1_700_000_000 + UInt32(index), fraction, UInt32(frame.count), UInt32(frame.count)] { append(field) }
            bytes += frame
        }
        let input = try CLITests.temporaryFile("odd-times-\(nanoseconds).pcap", Data(bytes))
        let theirs = try Subprocess.run(tcpdump, ["-r", input.path, "-w", "-"])
        let ours = try Subprocess.run(CLITests.executable.path, ["capture", "-n", "-r", input.path, "-w", "-"])
        #expect(theirs.status == 0 && theirs.output.count == 24 + 4 * (16 + frame.count), "\(theirs.errors)")
        #expect(ours.status == 0 && ours.output == theirs.output, "\(ours.errors)")
        #expect(Array(ours.output.dropFirst(20).prefix(4)) == [0x01, 0x00, 0x00, 0x24])
        // A filter keeps the same fields on the packets it passes.
        let someTheirs = try Subprocess.run(tcpdump, ["-r", input.path, "-w", "-", "arp"])
        let someOurs = try Subprocess.run(CLITests.executable.path, ["capture", "-n", "-r", input.path, "-w", "-", "arp"])
        #expect(someOurs.status == 0 && someOurs.output == someTheirs.output, "\(someOurs.errors)")
    }

    /// Every pcap file of the corpus copied with `-r F -w -` as tcpdump copies it, byte for
    /// byte (and both refuse the same files). pcapng files convert to pcap the same way too,
    /// times past 2106 included: both write their low 32 bits, and we warn.
    @Test func corpusCopiesAsTcpdump() throws {
        guard let (corpus, tcpdump) = Self.peers() else { return }
        var same = 0, differ: [String] = []
        for name in try FileManager.default.contentsOfDirectory(atPath: corpus.path).sorted() {
            let file = corpus.appendingPathComponent(name).path
            let theirs = try Subprocess.run(tcpdump, ["-r", file, "-w", "-"])
            let ours = try Subprocess.run(CLITests.executable.path, ["capture", "-n", "-r", file, "-w", "-"])
            if ours.output == theirs.output && (ours.status == 0) == (theirs.status == 0) {
                same += 1
                if name.hasPrefix("time_210"), name.hasSuffix(".pcapng") { #expect(ours.errors.contains("outside pcap's seconds"), "\(name): \(ours.errors)") }
            } else {
                differ.append("\(name): ours \(ours.output.count) bytes (\(ours.status)), tcpdump \(theirs.output.count) bytes (\(theirs.status))")
            }
        }
        print("copied as tcpdump copies: \(same) files")
        #expect(differ.isEmpty, "\(differ.joined(separator: "\n"))")
        #expect(same > 800)
    }

    /// `-w F -C 1` (and with `-W`) starts new files where tcpdump does, with its names and
    /// the same bytes in each, over a 3.7 MB file of records of many sizes.
    /// With `-z PROGRAM`, each closed file is handed to it (here a script renaming it).
    @Test(arguments: [["-C", "1"], ["-C", "2"], ["-C", "1", "-W", "2"], ["-C", "1", "-W", "1"], ["-C", "1", "-W", "12"], ["-C", "1", "-z", "SCRIPT"]])
    func rotatesFilesAsTcpdump(_ arguments: [String]) throws {
        guard let (_, tcpdump) = Self.peers() else { return }
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("swiftbpf-rotate-\(getpid())-\(arguments.count)-\(arguments.last ?? "")")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let script = folder.appendingPathComponent("mark.sh")
        try Data("#!/bin/sh\nmv \"$1\" \"$1.closed\"\n".utf8).write(to: script)
        chmod(script.path, 0o755)
        let rotation = arguments.map { $0 == "SCRIPT" ? script.path : $0 }
        var bytes: [UInt8] = []
        func append(_ value: UInt32) { withUnsafeBytes(of: value.littleEndian) { bytes += $0 } }
        for field: UInt32 in [0xa1b2_c3d4, 0x0004_0002, 0, 0, 65535, 1] { append(field) }
        for number in 0..<3500 {
            let length = 600 + (number * 37) % 900
            for field in [UInt32(1000 + number), UInt32(number), UInt32(length), UInt32(length)] { append(field) }
            bytes += (0..<length).map { UInt8(truncatingIfNeeded: number + $0) }
        }
        let input = folder.appendingPathComponent("in.pcap")
        try Data(bytes).write(to: input)
        var listings: [[String: Data]] = []
        for (program, command) in [(tcpdump, (getuid() == 0 ? ["-Z", "root"] : []) + ["-r", input.path]), (CLITests.executable.path, ["capture", "-n", "-r", input.path])] {
            let output = folder.appendingPathComponent(listings.isEmpty ? "theirs" : "ours")
            try FileManager.default.createDirectory(at: output, withIntermediateDirectories: true)
            let run = try Subprocess.run(program, command + ["-w", output.appendingPathComponent("x").path] + rotation)
            #expect(run.status == 0, "\(program): \(run.errors)")
            // -z's programs run on their own: wait until all but the last file are renamed.
            for _ in 0..<400 where rotation.contains("-z") {
                let names = try FileManager.default.contentsOfDirectory(atPath: output.path)
                if names.count == 4 && names.filter({ $0.hasSuffix(".closed") }).count == 3 { break }
                usleep(50_000)
            }
            var files: [String: Data] = [:]
            for name in try FileManager.default.contentsOfDirectory(atPath: output.path) {
                files[name] = try Data(contentsOf: output.appendingPathComponent(name))
            }
            listings.append(files)
        }
        #expect(listings[1].keys.sorted() == listings[0].keys.sorted())
        for (name, theirs) in listings[0] { #expect(listings[1][name] == theirs, "\(rotation): \(name) differs") }
        #expect(listings[0].count > 1 || rotation.contains("-W") && rotation.last == "1")
    }

    /// `-G` names files with strftime(3) conversions of their start: reading a file (in
    /// well under an hour) gives one, the bytes tcpdump writes.
    @Test func timedRotationNamesFilesByTheirStart() throws {
        guard let (corpus, tcpdump) = Self.peers() else { return }
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("swiftbpf-rotate-g-\(getpid())")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let input = corpus.appendingPathComponent("dns_udp.pcap").path
        let year = Calendar.current.component(.year, from: Date())
        let ours = try CLITests.swiftbpf(["capture", "-n", "-r", input, "-G", "3600", "-w", folder.path + "/ours-%Y.pcap"])
        let theirs = try Subprocess.run(tcpdump, (getuid() == 0 ? ["-Z", "root"] : []) + ["-r", input, "-G", "3600", "-w", folder.path + "/theirs-%Y.pcap"])
        #expect(ours.status == 0 && theirs.status == 0, "\(ours.stderr) \(theirs.errors)")
        let written = try FileManager.default.contentsOfDirectory(atPath: folder.path).sorted()
        #expect(written == ["ours-\(year).pcap", "theirs-\(year).pcap"])
        #expect(FileManager.default.contents(atPath: folder.path + "/ours-\(year).pcap") == FileManager.default.contents(atPath: folder.path + "/theirs-\(year).pcap"))
    }

    /// `-G 1 -W 2` on a live capture: two files a second or more apart, then the capture
    /// ends by itself with tcpdump's notice, and every packet it counted is in the files.
    @Test func timedRotationStopsAfterTheFileLimit() throws {
        guard CLITests.isRoot("live capture needs root") else { return }
        guard let (_, tcpdump) = Self.peers() else { return }
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("swiftbpf-rotate-gw-\(getpid())")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let run = try Self.start(CLITests.executable.path, ["capture", "-n", "-i", "lo", "-G", "1", "-W", "2", "-w", folder.path + "/x-%s", "udp", "port", "9994"])
        defer { if run.process.isRunning { run.process.terminate() } }
        let sender = socket(AF_INET, Int32(SOCK_DGRAM.rawValue), 0)
        defer { close(sender) }
        var target = sockaddr_in(sin_family: sa_family_t(AF_INET), sin_port: UInt16(9994).bigEndian, sin_addr: in_addr(s_addr: UInt32(0x7f00_0001).bigEndian), sin_zero: (0, 0, 0, 0, 0, 0, 0, 0))
        for _ in 0..<100 where run.process.isRunning {
            _ = withUnsafePointer(to: &target) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { sendto(sender, "x", 1, 0, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
            usleep(100_000)
        }
        let (_, report) = Self.finish(run)
        #expect(run.process.terminationStatus == 0 && report.contains("Maximum file limit reached: 2\n"), "\(report)")
        let names = try FileManager.default.contentsOfDirectory(atPath: folder.path).sorted()
        let starts = names.compactMap { Int($0.dropFirst(2)) }
        #expect(starts.count == 2 && starts[1] - starts[0] >= 1, "\(names)")
        var saved = 0
        for name in names {
            let read = try Subprocess.run(tcpdump, ["-n", "-r", folder.path + "/" + name])
            #expect(read.status == 0, "\(name): \(read.errors)")
            saved += Self.lines(read.text).count
        }
        #expect(report.contains("\n\(saved) packet"), "\(saved) saved; \(report)")
    }

    /// Oddities that do not stop the reading are reported once a kind, with their count:
    /// 17 records of this file are longer than its snapshot length of 9 and are cut to it.
    @Test func fileWarningsAreReportedOnceAKind() throws {
        guard let (corpus, _) = Self.peers() else { return }
        let run = try CLITests.swiftbpf(["capture", "-n", "-r", corpus.appendingPathComponent("q933-heapoverflow-2.pcap").path])
        let warnings = run.stderr.split(separator: "\n").filter { $0.hasPrefix("warning: ") }
        #expect(run.status == 0 && warnings.count == 1, "\(run.stderr)")
        #expect(warnings.first?.hasSuffix("packet 1 at offset 24 (0x18): captured length 86 exceeds the snapshot length 9 (and 16 more like it); cut to it, as libpcap does") == true, "\(warnings)")
    }

    /// `-V LIST` reads the files it names in turn, as tcpdump -V: the same lines across link
    /// types, the same -w file where they share one, and a refusal where they do not.
    @Test func fileListReadsAsTcpdump() throws {
        guard let (corpus, tcpdump) = Self.peers() else { return }
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("swiftbpf-list-\(getpid())")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let names = ["dns_udp.pcap", "icmpv6.pcap", "LINKTYPE_RAW_ipv6.pcap", "dns_tcp.pcap"].map { corpus.appendingPathComponent($0).path }
        let mixed = folder.appendingPathComponent("mixed.txt").path, ethernet = folder.appendingPathComponent("ethernet.txt").path
        try Data(names.map { $0 + "\n" }.joined().utf8).write(to: URL(fileURLWithPath: mixed))
        try Data((names[0] + "\n" + names[3] + "\n").utf8).write(to: URL(fileURLWithPath: ethernet))
        let ours = try CLITests.swiftbpf(["capture", "-n", "-V", mixed])
        let theirs = try Subprocess.run(tcpdump, ["-n", "-V", mixed])
        #expect(ours.status == 0 && ours.stdout == theirs.text && Self.lines(ours.stdout).count > 15, "\(ours.stderr)")
        #expect(ours.stderr == theirs.errors)
        let fromInput = try CLITests.swiftbpf(["capture", "-n", "-V", "-"], stdin: names.joined(separator: "\n"))
        #expect(fromInput.stdout == theirs.text)
        let oursSaved = folder.appendingPathComponent("ours.pcap").path, theirsSaved = folder.appendingPathComponent("theirs.pcap").path
        _ = try CLITests.swiftbpf(["capture", "-n", "-V", ethernet, "-w", oursSaved, "udp"])
        _ = try Subprocess.run(tcpdump, ["-V", ethernet, "-w", theirsSaved, "udp"])
        #expect(FileManager.default.contents(atPath: oursSaved) == FileManager.default.contents(atPath: theirsSaved))
        let refused = try CLITests.swiftbpf(["capture", "-n", "-V", mixed, "-w", oursSaved])
        #expect(refused.status != 0 && refused.stderr.contains("LINKTYPE_RAW_ipv6.pcap: link type RAW (Raw IP) differs from the first file's, EN10MB (Ethernet)"), "\(refused.stderr)")
    }

    /// A damaged file in a -V list: its packets up to the damage, the error, then the next
    /// file, as tcpdump goes on; the exit status is the last file's, as tcpdump's.
    @Test func fileListGoesOnPastADamagedFile() throws {
        guard let (corpus, tcpdump) = Self.peers() else { return }
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("swiftbpf-damaged-list-\(getpid())")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let whole = try Data(contentsOf: corpus.appendingPathComponent("dns_tcp.pcap"))
        let cut = folder.appendingPathComponent("cut.pcap").path
        try whole.prefix(whole.count / 2).write(to: URL(fileURLWithPath: cut))
        let good = ["dns_udp.pcap", "icmpv6.pcap"].map { corpus.appendingPathComponent($0).path }
        for (names, status) in [([good[0], cut, good[1]], Int32(0)), ([good[0], cut], 1)] {
            let list = folder.appendingPathComponent("list.txt").path
            try Data(names.map { $0 + "\n" }.joined().utf8).write(to: URL(fileURLWithPath: list))
            let ours = try CLITests.swiftbpf(["capture", "-n", "-V", list])
            let theirs = try Subprocess.run(tcpdump, ["-n", "-V", list])
            #expect(theirs.status == status && ours.status == status, "\(names): \(ours.stderr)")
            #expect(ours.stdout == theirs.text && Self.lines(ours.stdout).count > 4)
            #expect(ours.stderr.contains("cut.pcap is damaged after packet"), "\(ours.stderr)")
        }
    }

    /// A filter longer than the kernel's 4096 instructions runs on a file as libpcap runs it
    /// (offline filters have no such limit), and prints whole with `filter`; on a live
    /// socket, where the kernel runs it, it is refused.
    @Test func longFiltersRunOnFiles() throws {
        guard let (corpus, tcpdump) = Self.peers() else { return }
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("swiftbpf-long-filter-\(getpid())")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let expression = (1000..<1750).map { "udp port \($0)" }.joined(separator: " or ") + " or udp port 53"
        let filterFile = folder.appendingPathComponent("long.flt").path
        try Data(expression.utf8).write(to: URL(fileURLWithPath: filterFile))
        let file = corpus.appendingPathComponent("dns_udp.pcap").path
        let ours = try CLITests.swiftbpf(["capture", "-n", "-t", "-r", file, "-F", filterFile])
        let theirs = try Subprocess.run(tcpdump, ["-n", "-t", "-r", file, "-F", filterFile])
        #expect(ours.status == 0 && ours.stdout == theirs.text && !ours.stdout.isEmpty, "\(ours.stderr)")
        let printed = try CLITests.swiftbpf(["filter", expression])
        #expect(printed.status == 0 && Self.lines(printed.stdout).count > 4096, "\(printed.stderr)")
        let live = try CLITests.swiftbpf(["filter", "--live", expression])
        #expect(live.status != 0 && live.stderr.contains("classic BPF in the kernel allows 4096"), "\(live.stderr.prefix(300))")
    }

    /// A pcapng file of Ethernet and raw IP interfaces: an expression that has no meaning
    /// for raw IP leaves those packets out with a warning, and reading goes on; a file with
    /// a packet before any interface is refused as libpcap refuses it.
    @Test func pcapngInterfacesTheFilterCannotRead() throws {
        guard let (_, tcpdump) = Self.peers() else { return }
        let udp: [UInt8] = [0x45, 0, 0, 28, 0, 0, 0, 0, 64, 17, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2, 0x03, 0xe8, 0, 53, 0, 8, 0, 0]
        let ethernet = [2, 0, 0, 0, 0, 1, 2, 0, 0, 0, 0, 2, 8, 0] + udp
        var file = PcapngBytes()
        file.packet(interface: 0, ethernet)
        let orphan = file.bytes
        file = PcapngBytes()
        for linkType: UInt32 in [1, 101] { file.interface(linkType: linkType, snapshotLength: 262_144) }
        file.packet(interface: 0, ethernet)
        file.packet(interface: 1, udp)
        file.packet(interface: 0, ethernet)
        let bytes = file.bytes
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("swiftbpf-interfaces-\(getpid())")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let mixed = folder.appendingPathComponent("mixed.pcapng").path, noInterface = folder.appendingPathComponent("orphan.pcapng").path
        try Data(bytes).write(to: URL(fileURLWithPath: mixed))
        try Data(orphan).write(to: URL(fileURLWithPath: noInterface))
        let filtered = try CLITests.swiftbpf(["capture", "-n", "--count", "-r", mixed, "ether", "host", "02:00:00:00:00:01"])
        #expect(filtered.status == 0 && filtered.stdout == "2 packets\n", "\(filtered.stdout) \(filtered.stderr)")
        #expect(filtered.stderr.contains("packets of link type RAW (Raw IP) are left out: column 12: Ethernet addresses"), "\(filtered.stderr)")
        #expect(try CLITests.swiftbpf(["capture", "-n", "--count", "-r", mixed, "udp"]).stdout == "3 packets\n")
        let refused = try CLITests.swiftbpf(["capture", "-n", "-r", noInterface])
        #expect(try Subprocess.run(tcpdump, ["-n", "-r", noInterface]).status != 0)
        #expect(refused.status != 0 && refused.stderr.contains("no Interface Description Block comes before the first packet"), "\(refused.stderr)")
        #expect(!refused.stderr.contains("reading from file"))
    }

    /// -w from a pcapng file whose interfaces have other snapshot lengths: the header holds
    /// the largest (0, no limit, as tcpdump writes it: 262144), so no reader cuts a packet;
    /// an interface described after the first packet, which the header could not know, is
    /// said when one of its packets is longer than the header's length.
    @Test func savedHeaderHoldsEveryInterfacesPackets() throws {
        guard let (_, tcpdump) = Self.peers() else { return }
        let long = [UInt8](repeating: 0xff, count: 12) + [0x08, 0x06] + [UInt8](repeating: 7, count: 88)
        var file = PcapngBytes()
        file.interface(snapshotLength: 64)
        file.interface(snapshotLength: 0)
        file.packet(interface: 1, long)
        let together = file.bytes
        file = PcapngBytes()
        file.interface(snapshotLength: 64)
        file.packet(interface: 0, Array(long.prefix(60)))
        file.interface(snapshotLength: 0)
        file.packet(interface: 1, long)
        let later = file.bytes
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("swiftbpf-snaplen-\(getpid())")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let source = folder.appendingPathComponent("two.pcapng").path, saved = folder.appendingPathComponent("saved.pcap").path
        try Data(together).write(to: URL(fileURLWithPath: source))
        let ours = try CLITests.swiftbpf(["capture", "-n", "-r", source, "-w", saved])
        #expect(ours.status == 0 && !ours.stderr.contains("warning"), "\(ours.stderr)")
        let written = try Data(contentsOf: URL(fileURLWithPath: saved))
        #expect(written.count > 24 && written[16..<20].elementsEqual([0, 0, 4, 0]), "\(Array(written.prefix(24)))")
        let read = try Subprocess.run(tcpdump, ["-n", "-e", "-r", saved])
        #expect(read.status == 0 && read.text.contains("length 102"), "\(read.text) \(read.errors)")
        try Data(later).write(to: URL(fileURLWithPath: source))
        let warned = try CLITests.swiftbpf(["capture", "-n", "-r", source, "-w", saved])
        #expect(warned.status == 0 && warned.stderr.contains("warning: packet 2 has 102 bytes, more than the snapshot length 64"), "\(warned.stderr)")
    }

    /// `-r -` prints each packet as it arrives through a pipe, as tcpdump does, rather than
    /// when a window fills or the writer ends (`ssh host tcpdump -U -w - | … -r -`), even
    /// when the first read brings less than the magic number.
    @Test func readsAPipeAsItArrives() throws {
        let process = Process()
        process.executableURL = CLITests.executable
        process.arguments = ["capture", "-n", "-l", "-t", "-r", "-"]
        let input = Pipe(), output = Pipe()
        process.standardInput = input
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        try process.run()
        defer { if process.isRunning { process.terminate() } }
        var bytes: [UInt8] = []
        func append(_ value: UInt32) { withUnsafeBytes(of: value.littleEndian) { bytes += $0 } }
        for field: UInt32 in [0xa1b2_c3d4, 0x0004_0002, 0, 0, 65535, 1] { append(field) }
        let arp: [UInt8] = [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0, 0x11, 0x22, 0x33, 0x44, 0x55, 0x08, 0x06, 0, 1, 8, 0, 6, 4, 0, 1,
                            0, 0x11, 0x22, 0x33, 0x44, 0x55, 192, 168, 0, 1, 0, 0, 0, 0, 0, 0, 192, 168, 0, 2]
        for field in [UInt32(1000), 0, UInt32(arp.count), UInt32(arp.count)] { append(field) }
        // The magic number in two pieces, as a pipe may bring it.
        input.fileHandleForWriting.write(Data(bytes.prefix(3)))
        usleep(200_000)
        input.fileHandleForWriting.write(Data(bytes.dropFirst(3) + arp))
        // The writer keeps the pipe open: the line must come all the same.
        let line = DispatchSemaphore(value: 0)
        nonisolated(unsafe) var printed = Data()
        DispatchQueue.global().async {
            printed = output.fileHandleForReading.availableData
            line.signal()
        }
        #expect(line.wait(timeout: .now() + 20) == .success, "no line while the pipe stays open")
        try input.fileHandleForWriting.close()
        process.waitUntilExit()
        #expect(String(decoding: printed, as: UTF8.self) == "ARP, Request who-has 192.168.0.2 tell 192.168.0.1, length 28\n")
    }

    /// Ctrl-C or SIGTERM while `-r -` waits on a pipe keeps what was read, as tcpdump does:
    /// the lines printed whole (not lost in a buffer), the -w file complete; status 0.
    @Test(arguments: [(SIGINT, false), (SIGTERM, true)])
    func stopWhileReadingKeepsWhatWasRead(signalNumber: Int32, saving: Bool) throws {
        guard let (corpus, _) = Self.peers() else { return }
        let file = corpus.appendingPathComponent("dns_udp.pcap").path
        let saved = FileManager.default.temporaryDirectory.appendingPathComponent("swiftbpf-stop-\(getpid())-\(signalNumber).pcap")
        defer { try? FileManager.default.removeItem(at: saved) }
        let whole = try CLITests.swiftbpf(["capture", "-n", "-r", file] + (saving ? ["-w", saved.path + ".whole"] : []))
        defer { try? FileManager.default.removeItem(atPath: saved.path + ".whole") }
        let process = Process()
        process.executableURL = CLITests.executable
        process.arguments = ["capture", "-n", "-r", "-"] + (saving ? ["-w", saved.path] : [])
        let input = Pipe(), output = Pipe(), errors = Pipe()
        process.standardInput = input
        process.standardOutput = output
        process.standardError = errors
        try process.run()
        defer { if process.isRunning { process.terminate() } }
        // The whole file, with the pipe kept open: the reader then waits for more.
        input.fileHandleForWriting.write(try Data(contentsOf: URL(fileURLWithPath: file)))
        // Its "reading from file" comes once the header is read; the packets follow at once.
        let started = DispatchSemaphore(value: 0)
        DispatchQueue.global().async {
            _ = errors.fileHandleForReading.availableData
            started.signal()
        }
        #expect(started.wait(timeout: .now() + 20) == .success, "nothing read")
        usleep(1_000_000)  // a guard, not a measurement
        kill(process.processIdentifier, signalNumber)
        let printed = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        #expect(process.terminationReason == .exit && process.terminationStatus == 0, "\(process.terminationReason) \(process.terminationStatus)")
        if saving {
            #expect(try Data(contentsOf: saved) == Data(contentsOf: URL(fileURLWithPath: saved.path + ".whole")))
        } else {
            #expect(String(decoding: printed, as: UTF8.self) == whole.stdout && !whole.stdout.isEmpty)
        }
    }

    /// A full disk or a closed pipe on standard output ends the command with tcpdump's
    /// words and status 1, not a trap; a -w file that cannot be written is named once.
    @Test func outputFailuresAreErrorsNotCrashes() throws {
        guard let (corpus, _) = Self.peers() else { return }
        let file = corpus.appendingPathComponent("afs.pcap").path
        let command = "'\(CLITests.executable.path)' capture -r '\(file)'"
        let full = try Subprocess.run("/bin/sh", ["-c", command + " > /dev/full"])
        #expect(full.status == 1 && full.errors.hasSuffix("Error: Unable to write output: No space left on device\n"), "\(full.status) \(full.errors)")
        let closed = try Subprocess.run("/bin/sh", ["-c", "trap '' PIPE; " + command + " | head -c 10 > /dev/null; exit 0"])
        #expect(closed.status == 0 && closed.errors.contains("Error: Unable to write output: Broken pipe") && !closed.errors.contains("Fatal error"), "\(closed.errors)")
        let quiet = try Subprocess.run("/bin/sh", ["-c", command + " > /dev/null 2> /dev/full"])
        #expect(quiet.status == 0)
        let unwritable = try CLITests.swiftbpf(["capture", "-n", "-r", file, "-w", "/dev/full"])
        #expect(unwritable.status == 1 && unwritable.stderr.hasSuffix("Error: capture: cannot write /dev/full: No space left on device\n"), "\(unwritable.stderr)")
    }

    /// Short flags clustered with an option and its value, as tcpdump users type them.
    @Test(arguments: [["-nnc1"], ["-Xs0", "-c2"], ["-nntc", "3"], ["-ec1"], ["-nQin", "-c2"]])
    func flagClustersAsTcpdump(_ flags: [String]) throws {
        guard let (corpus, tcpdump) = Self.peers() else { return }
        let file = corpus.appendingPathComponent("dns_tcp.pcap").path
        let ours = try CLITests.swiftbpf(["capture", "-n", "-n"] + flags + ["-r", file])
        let theirs = try Subprocess.run(tcpdump, ["-n"] + flags + ["-r", file])
        #expect(ours.status == 0 && ours.stdout == theirs.text && !ours.stdout.isEmpty, "\(flags): \(ours.stderr)")
    }

    /// `-i any` captures with Linux cooked v2 headers, as tcpdump 4.99 with libpcap 1.10
    /// does: the same -d program (`ldh [0]`), a saved file of link type LINUX_SLL2 (276) as
    /// tcpdump's own, and loopback datagrams in it that tcpdump reads as the lines we print.
    /// With `-y LINUX_SLL`, the same with cooked v1 headers (link type 113).
    @Test(.serialized, arguments: [[], ["-y", "LINUX_SLL"]])
    func anyInterfaceCapturesCookedV2AsTcpdump(_ choice: [String]) throws {
        guard CLITests.isRoot("live capture needs root") else { return }
        guard let (_, tcpdump) = Self.peers() else { return }
        let version1 = !choice.isEmpty
        for flag in ["-d", "-dd"] {
            let ours = try CLITests.swiftbpf(["capture", "-n", "-i", "any"] + choice + [flag, "udp", "dst", "port", "9996"])
            let theirs = try Subprocess.run(tcpdump, ["-i", "any"] + choice + [flag, "udp dst port 9996"])
            #expect(ours.status == 0 && ours.stdout == theirs.text && (flag != "-d" || theirs.text.hasPrefix(version1 ? "(000) ldh      [14]" : "(000) ldh      [0]")), "\(ours.stdout) vs \(theirs.text)")
        }
        let ourFile = try CLITests.temporaryFile("any\(choice.count).pcap", Data())
        let theirFile = try CLITests.temporaryFile("any\(choice.count)-tcpdump.pcap", Data())
        let ours = try Self.start(CLITests.executable.path, ["capture", "-n", "-i", "any"] + choice + ["-c", "3", "-w", ourFile.path, "udp", "dst", "port", "9996"])
        let theirs = try Self.start(tcpdump, ["-i", "any"] + choice + ["-c", "3", "-w", theirFile.path, "udp dst port 9996"])
        defer { for run in [ours, theirs] where run.process.isRunning { run.process.terminate() } }
        Self.sendDatagrams(to: [9995, 9996], rounds: 100, while: [ours.process, theirs.process])
        let (_, ourReport) = Self.finish(ours)
        let (_, theirReport) = Self.finish(theirs)
        #expect(ours.process.terminationStatus == 0 && theirs.process.terminationStatus == 0, "\(ourReport) \(theirReport)")
        #expect(ourReport.contains(version1 ? "listening on any, link-type LINUX_SLL (" : "listening on any, link-type LINUX_SLL2"), "\(ourReport)")
        let ourBytes = try Data(contentsOf: ourFile), theirBytes = try Data(contentsOf: theirFile)
        #expect(Array(ourBytes.dropFirst(20).prefix(4)) == (version1 ? [0x71, 0, 0, 0] : [0x14, 0x01, 0, 0]))
        #expect(Array(ourBytes.prefix(24)) == Array(theirBytes.prefix(24)))
        let read = try Subprocess.run(tcpdump, ["-n", "-t", "-r", ourFile.path])
        let printed = try CLITests.swiftbpf(["capture", "-n", "-t", "-r", ourFile.path])
        let lines = Self.lines(read.text)
        #expect(lines.count == 3 && Self.lines(printed.stdout) == lines, "\(printed.stdout) vs \(read.text)")
        for line in lines { #expect(line.hasPrefix(version1 ? "IP 127.0.0.1." : "lo    In  IP 127.0.0.1.") && line.contains(" > 127.0.0.1.9996: UDP, length "), "\(line)") }
        // tcpdump's own capture reads the same, but for which datagrams (and so lengths) it caught.
        let theirLines = Self.lines(try Subprocess.run(tcpdump, ["-n", "-t", "-r", theirFile.path]).text)
        let withoutLength = { (lines: [String]) in lines.map { $0.components(separatedBy: ", length").first ?? $0 } }
        #expect(withoutLength(theirLines) == withoutLength(lines))
    }

    /// `-L` lists what `-y` can choose, as tcpdump -L (on `lo`, and the two cooked versions
    /// on `any`); `-y` refuses one the interface does not offer.
    @Test func listsLinkTypesAsTcpdump() throws {
        guard CLITests.isRoot("live capture needs root") else { return }
        guard let (_, tcpdump) = Self.peers() else { return }
        for interface in ["lo", "any"] {
            let ours = try CLITests.swiftbpf(["capture", "-n", "-L", "-i", interface])
            let theirs = try Subprocess.run(tcpdump, ["-L", "-i", interface])
            #expect(ours.status == 0 && ours.stderr == theirs.errors && ours.stderr.contains("  EN10MB") != (interface == "any"), "\(ours.stderr) vs \(theirs.errors)")
        }
        let refused = try CLITests.swiftbpf(["capture", "-n", "-i", "lo", "-y", "LINUX_SLL2", "-c", "1"])
        #expect(refused.status != 0 && refused.stderr.contains("LINUX_SLL2 (Linux cooked v2) is not a link type this interface offers (EN10MB (Ethernet))"), "\(refused.stderr)")
    }

    @Test func dumpsTheFilterForTheFilesLinkType() throws {
        guard let (corpus, tcpdump) = Self.peers() else { return }
        // A pcapng file names its link type in an interface block after the section header.
        for name in ["LINKTYPE_RAW_ipv6.pcap", "bgp-orf.pcapng"] {
            let file = corpus.appendingPathComponent(name).path
            for flag in ["-d", "-dd", "-ddd"] {
                let ours = try CLITests.swiftbpf(["capture", "-n", "-r", file, flag, "ip6", "and", "tcp"])
                let theirs = try Subprocess.run(tcpdump, ["-r", file, flag, "ip6 and tcp"])
                #expect(ours.status == 0 && ours.stdout == theirs.text, "\(name) \(flag): \(ours.stdout) vs \(theirs.text)")
            }
        }
        // -O leaves the filter unoptimized: for `tcp port 80`, libpcap's own unoptimized program.
        let file = corpus.appendingPathComponent("dns_udp.pcap").path
        let ours = try CLITests.swiftbpf(["capture", "-n", "-r", file, "-O", "-d", "tcp", "port", "80"])
        let theirs = try Subprocess.run(tcpdump, ["-r", file, "-O", "-d", "tcp port 80"])
        let optimized = try CLITests.swiftbpf(["capture", "-n", "-r", file, "-d", "tcp", "port", "80"])
        #expect(ours.status == 0 && ours.stdout == theirs.text && ours.stdout != optimized.stdout, "\(ours.stdout) vs \(theirs.text)")
    }

    /// Without -i or -r, both pick the same interface and compile for its link type.
    @Test func dumpsTheFilterForTheDefaultInterface() throws {
        guard CLITests.isRoot("tcpdump -d without -i opens an interface: needs root") else { return }
        guard let (_, tcpdump) = Self.peers() else { return }
        for flag in ["-d", "-ddd"] {
            let ours = try CLITests.swiftbpf(["capture", "-n", flag, "tcp", "port", "80"])
            let theirs = try Subprocess.run(tcpdump, [flag, "tcp port 80"])
            #expect(theirs.status == 0, "\(theirs.errors)")
            #expect(ours.status == 0 && ours.stdout == theirs.text, "\(flag): \(ours.stdout) \(ours.stderr) vs \(theirs.text)")
        }
    }

    /// `-i lo -c 3` while datagrams go to two ports: the three to the filtered port print,
    /// and the counters follow on stderr.
    @Test func liveCaptureOnLoopback() throws {
        guard CLITests.isRoot("live capture needs root") else { return }
        let process = Process()
        process.executableURL = CLITests.executable
        process.arguments = ["capture", "-n", "-i", "lo", "-c", "3", "-t", "udp", "dst", "port", "9994"]
        let output = Pipe(), errors = Pipe()
        process.standardOutput = output
        process.standardError = errors
        try process.run()
        defer { if process.isRunning { process.terminate() } }
        // Until the capture has started and taken three, send one of each a tenth of a second.
        Self.sendDatagrams(to: [9993, 9994], rounds: 100, while: process)
        let printed = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        let report = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        #expect(process.terminationStatus == 0, "\(report)")
        let lines = Self.lines(printed)
        #expect(lines.count == 3)
        for line in lines {
            #expect(line.hasPrefix("IP 127.0.0.1.") && line.contains(" > 127.0.0.1.9994: UDP, length "), "\(line)")
        }
        #expect(report.contains("listening on lo, link-type EN10MB (Ethernet), snapshot length 262144 bytes\n"), "\(report)")
        #expect(report.contains("3 packets captured\n"), "\(report)")
        #expect(report.contains("packets received by filter\n") && report.contains("0 packets dropped by kernel"))
    }

    /// Datagrams to 127.0.0.1 on each of `ports` a tenth of a second, for `rounds` rounds or
    /// until `process` ends.
    static func sendDatagrams(to ports: [UInt16], rounds: Int, while process: Process) {
        sendDatagrams(to: ports, rounds: rounds, while: [process])
    }

    /// The same while any of `processes` runs.
    static func sendDatagrams(to ports: [UInt16], rounds: Int, while processes: [Process]) {
        let sender = socket(AF_INET, Int32(SOCK_DGRAM.rawValue), 0)
        defer { close(sender) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = UInt32(0x7f00_0001).bigEndian
        for round in 0..<rounds where processes.contains(where: \.isRunning) {
            for port in ports {
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
    }

    /// SIGTERM (kill, timeout) stops a capture as Ctrl-C does: the counts print and the
    /// -w file holds every packet counted, as with tcpdump. -s 0 means the largest length.
    @Test func terminateCompletesTheSavedFile() throws {
        guard CLITests.isRoot("live capture needs root") else { return }
        guard let (_, tcpdump) = Self.peers() else { return }
        let saved = try CLITests.temporaryFile("terminated.pcap", Data())
        let process = Process()
        process.executableURL = CLITests.executable
        process.arguments = ["capture", "-n", "-i", "lo", "-s", "0", "-w", saved.path, "udp", "dst", "port", "9995"]
        let errors = Pipe()
        process.standardError = errors
        try process.run()
        defer { if process.isRunning { process.terminate() } }
        Self.sendDatagrams(to: [9995], rounds: 15, while: process)
        process.terminate()
        let report = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        #expect(process.terminationStatus == 0, "\(report)")
        #expect(report.contains("snapshot length 262144 bytes"), "\(report)")
        let read = try Subprocess.run(tcpdump, ["-n", "-r", saved.path])
        let lines = Self.lines(read.text)
        #expect(read.status == 0 && !lines.isEmpty, "\(read.errors)")
        #expect(report.contains("\(lines.count) packets captured\n"), "\(report) vs \(lines.count) packets in the file")
        for line in lines { #expect(line.contains(" > 127.0.0.1.9995: UDP"), "\(line)") }
    }

    /// The reviewer's case (issue 6): VLAN-tagged frames over a veth pair, where Linux takes
    /// the tag out before a socket filter runs. `capture -i IF -c 3 vlan 5` prints what
    /// `tcpdump -i IF -c 3 vlan 5` prints at the same time, while untagged and VLAN 6
    /// frames go by too.
    @Test func liveVLANFilterPrintsWhatTcpdumpPrints() throws {
        guard CLITests.isRoot("live capture needs root") else { return }
        guard let (_, tcpdump) = Self.peers() else { return }
        guard let (inside, outside) = makeVethPair("sbq") else { return }
        defer { _ = ip(["link", "del", inside]) }
        let id = 5
        let ours = try Self.start(CLITests.executable.path, ["capture", "-n", "-i", inside, "-c", "3", "-t", "vlan \(id)"])
        let theirs = try Self.start(tcpdump, ["-i", inside, "-c", "3", "-n", "-t", "vlan \(id)"])
        defer { for run in [ours, theirs] where run.process.isRunning { run.process.terminate() } }
        let writer = socket(AF_PACKET, Int32(SOCK_RAW.rawValue), 0)
        #expect(writer >= 0)
        defer { close(writer) }
        let index = if_nametoindex(outside)
        // Until both have started and taken three, one of each kind a tenth of a second.
        for round in 0..<100 where ours.process.isRunning || theirs.process.isRunning {
            let udp = frame(port: 9999, round)
            for tags in [[], [(UInt16(0x8100), UInt16(6))], [(UInt16(0x8100), UInt16(id))]] { sendFrame(writer, index, tagged(udp, tags)) }
            usleep(100_000)
        }
        let (ourLines, ourReport) = Self.finish(ours)
        let (theirLines, theirReport) = Self.finish(theirs)
        #expect(ours.process.terminationStatus == 0 && theirs.process.terminationStatus == 0, "\(ourReport) \(theirReport)")
        #expect(ourLines.count == 3 && ourLines == theirLines, "ours: \(ourLines), tcpdump's: \(theirLines)")
        #expect(ourReport.contains("3 packets captured\n"), "\(ourReport)")
    }

    /// `-Q in` and `-Q out` keep what tcpdump keeps, as it happens: on one end of a veth
    /// pair, frames to port 9999 arrive from the other end while frames to port 8888 leave.
    /// Ours runs on a small ring (-B 256) handed over at once (--immediate-mode).
    @Test func directionKeepsWhatTcpdumpKeeps() throws {
        guard CLITests.isRoot("live capture needs root") else { return }
        guard let (_, tcpdump) = Self.peers() else { return }
        guard let (inside, outside) = makeVethPair("sbd") else { return }
        defer { _ = ip(["link", "del", inside]) }
        let filter = "udp and (port 9999 or port 8888)"
        var runs: [(direction: String, ours: (process: Process, output: Pipe, errors: Pipe), theirs: (process: Process, output: Pipe, errors: Pipe))] = []
        for direction in ["in", "out"] {
            runs.append((direction,
                         try Self.start(CLITests.executable.path, ["capture", "-n", "-i", inside, "-Q", direction, "-B", "256", "--immediate-mode", "-c", "3", "-t", filter]),
                         try Self.start(tcpdump, ["-i", inside, "-Q", direction, "-c", "3", "-n", "-t", filter])))
        }
        defer { for run in runs { for process in [run.ours.process, run.theirs.process] where process.isRunning { process.terminate() } } }
        let writer = socket(AF_PACKET, Int32(SOCK_RAW.rawValue), 0)
        #expect(writer >= 0)
        defer { close(writer) }
        // Until all four have taken three, one frame each way a tenth of a second.
        for round in 0..<100 where runs.contains(where: { $0.ours.process.isRunning || $0.theirs.process.isRunning }) {
            sendFrame(writer, if_nametoindex(outside), frame(port: 9999, round))
            sendFrame(writer, if_nametoindex(inside), frame(port: 8888, round))
            usleep(100_000)
        }
        for run in runs {
            let (ourLines, ourReport) = Self.finish(run.ours)
            let (theirLines, theirReport) = Self.finish(run.theirs)
            let port = run.direction == "in" ? ".9999:" : ".8888:"
            #expect(ourLines.count == 3 && ourLines.allSatisfy { $0.contains(port) }, "-Q \(run.direction): \(ourLines) \(ourReport)")
            #expect(ourLines == theirLines, "-Q \(run.direction): ours \(ourLines), tcpdump's \(theirLines) \(theirReport)")
        }
    }

    static func start(_ executable: String, _ arguments: [String]) throws -> (process: Process, output: Pipe, errors: Pipe) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        let output = Pipe(), errors = Pipe()
        process.standardOutput = output
        process.standardError = errors
        try process.run()
        return (process, output, errors)
    }

    /// What a started process printed: its lines and its standard error, after it ended.
    static func finish(_ run: (process: Process, output: Pipe, errors: Pipe)) -> ([String], String) {
        if run.process.isRunning { run.process.terminate() }
        let printed = String(decoding: run.output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        let report = String(decoding: run.errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        run.process.waitUntilExit()
        return (lines(printed), report)
    }

    @Test func mistakesGiveOneLineErrors() throws {
        let cases: [([String], String)] = [
            (["capture", "-n", "-i", "lo", "-r", "/nonexistent.pcap"], "give one of -i INTERFACE, -r FILE and -V LIST"),
            (["capture", "-n", "-r", "/nonexistent.pcap"], "cannot read /nonexistent.pcap"),
            (["capture", "-n", "-r", "Package.swift"], "capture: Package.swift:"),
            (["capture", "-n", "-r", "/nonexistent.pcap", "-c", "0"], "-c must be at least 1"),
            (["capture", "-n", "-i", "nosuchinterface0"], "nosuchinterface0"),
            (["capture", "-n", "-r", "/nonexistent.pcap", "-w", "-", "-C", "1"], "-C and -G start new files, so -w must name a file"),
            (["capture", "-n", "-r", "/nonexistent.pcap", "-w", "x.pcap", "-W", "3"], "-W limits the files -C or -G starts; give one of them too"),
            (["capture", "-n", "-r", "/nonexistent.pcap", "-w", "x.pcap", "-C", "0"], "-C must be a size in millions of bytes, from 1"),
            (["capture", "-n", "-r", "/nonexistent.pcap", "-w", "x.pcap", "-C", "1", "-W", "0"], "-W must be at least 1"),
            (["capture", "-n", "-i", "lo", "-Q", "sideways"], "sideways"),
            (["capture", "-n", "-i", "any", "-y", "bogus"], "-y: bogus is no link type libpcap names"),
            (["capture", "-n", "-i", "lo", "-w", "/nonexistent/x.pcap"], "capture: cannot create /nonexistent/x.pcap"),
            (["capture", "-n", "-r", "/nonexistent.pcap", "-c", "-5"], "-c must be at least 1"),
            (["capture", "-n", "-r", "/nonexistent.pcap", "-w", "x.pcap", "-z", "gzip"], "-z runs on the files -C or -G closes; give one of them too"),
            (["capture", "-n", "-i", "lo", "-B", "4194304"], "-B must be a size in KiB, from 1 to 2097151"),
        ]
        for (arguments, message) in cases {
            let result = try CLITests.swiftbpf(arguments)
            #expect(result.status != 0, "\(arguments)")
            #expect(result.stderr.contains(message), "\(arguments): \(result.stderr)")
            #expect(!result.stderr.contains("Fatal error"))
            // Refused before the capture starts, with the reason said once.
            #expect(!result.stderr.contains("listening on") && !result.stderr.contains("capture: capture:"), "\(arguments): \(result.stderr)")
        }
        guard let (corpus, _) = Self.peers() else { return }
        let bad = try CLITests.swiftbpf(["capture", "-n", "-r", corpus.appendingPathComponent("dns_udp.pcap").path, "tcp", "port", "99999"])
        #expect(bad.status != 0 && bad.stderr.contains("99999"), "\(bad.stderr)")
        // A filter that can match nothing is a mistake, as tcpdump says; unoptimized, it runs.
        let never = ["ip", "and", "ip6"]
        let refused = try CLITests.swiftbpf(["capture", "-n", "-r", corpus.appendingPathComponent("dns_udp.pcap").path] + never)
        #expect(refused.status != 0 && refused.stderr.contains("expression rejects all packets"), "\(refused.stderr)")
        let filter = try CLITests.swiftbpf(["filter", never.joined(separator: " ")])
        #expect(filter.status != 0 && filter.stderr.contains("expression rejects all packets"), "\(filter.stderr)")
        #expect(try CLITests.swiftbpf(["filter", "--no-optimize", never.joined(separator: " ")]).status == 0)
    }
}
