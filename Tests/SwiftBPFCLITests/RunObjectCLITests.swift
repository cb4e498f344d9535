import Foundation
import TestPeers
import Testing

/// `swiftbpf run OBJ --program NAME --pcap IN`: an XDP program of a clang-built object over
/// a capture, the verdict counts and map contents it prints, the packets it writes, and its
/// one-sentence errors.
@Suite struct RunObjectCLITests {
    static func object() throws -> URL {
        let source = CLITests.root.appendingPathComponent("Tests/BPFVMTests/Fixtures/objects/counter.bpf.c")
        // A name of its own per call: tests run in parallel.
        let output = try CLITests.temporaryFile("counter-\(UUID().uuidString).bpf.o", Data())
        _ = try Subprocess.output("/opt/swift/usr/bin/clang", ["-target", "bpf", "-O2", "-g", "-c", "-I/usr/include/x86_64-linux-gnu",
                                                              source.path, "-o", output.path])
        return output
    }

    /// A little-endian microsecond pcap of Ethernet frames.
    static func capture(_ frames: [[UInt8]]) -> Data {
        var bytes: [UInt8] = []
        func word(_ value: UInt32) { bytes += withUnsafeBytes(of: value.littleEndian) { Array($0) } }
        word(0xa1b2_c3d4); bytes += [2, 0, 4, 0]; word(0); word(0); word(65535); word(1)
        for (index, frame) in frames.enumerated() {
            word(1_700_000_000 + UInt32(index)); word(0); word(UInt32(frame.count)); word(UInt32(frame.count))
            bytes += frame
        }
        return Data(bytes)
    }

    static func frame(type: UInt16, length: Int) -> [UInt8] {
        [0x02, 0, 0, 0, 0, 2, 0x02, 0, 0, 0, 0, 1, UInt8(type >> 8), UInt8(type & 0xff)] + (0..<(length - 14)).map { UInt8($0 & 0xff) }
    }

    @Test func countsVerdictsAndDumpsMaps() throws {
        let object = try Self.object()
        let frames = [Self.frame(type: 0x0800, length: 60), Self.frame(type: 0x0800, length: 64), Self.frame(type: 0x86dd, length: 80),
                      [1, 2, 3]]
        let input = try CLITests.temporaryFile("in-\(UUID().uuidString).pcap", Self.capture(frames))
        let output = input.deletingPathExtension().appendingPathExtension("out.pcap")
        let human = try CLITests.swiftbpf(["run", object.path, "--program", "count", "--pcap", input.path, "--write", output.path])
        #expect(human.status == 0, "\(human.stderr)")
        #expect(human.stdout.hasPrefix("count over 4 packets of \(input.path):\n  XDP_PASS: 3\n  not run: 1 "))
        #expect(human.stdout.contains("\"packets\": 3"))
        // The kept packets, unchanged, as the file's first three records.
        let written = try Data(contentsOf: output)
        #expect(written == Self.capture(Array(frames.prefix(3))))

        let json = try CLITests.swiftbpf(["run", object.path, "--program", "count", "--pcap", input.path, "--json", "--engine", "interpreter"])
        #expect(json.status == 0, "\(json.stderr)")
        let parsed = try #require(try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any])
        #expect(parsed["verdicts"] as? [String: Int] == ["XDP_PASS": 3])
        #expect(parsed["not_run"] as? Int == 1)
        let maps = try #require(parsed["maps"] as? [String: [[String: Any]]])
        let counts = (maps["by_ethertype"] ?? []).compactMap { $0["formatted"] as? [String: Int] }
        #expect(Set(counts.map { [$0["key"] ?? 0, $0["value"] ?? 0] }) == [[0x0800, 2], [0x86dd, 1]])

        // forget deletes what is not there: every packet dropped, none written.
        let dropped = try CLITests.swiftbpf(["run", object.path, "--program", "forget", "--pcap", input.path, "--write", output.path])
        #expect(dropped.stdout.contains("XDP_DROP: 3"))
        #expect(try Data(contentsOf: output) == Self.capture([]).prefix(24))
    }

    @Test func errorsAreOneSentence() throws {
        let object = try Self.object()
        let input = try CLITests.temporaryFile("one.pcap", Self.capture([Self.frame(type: 0x0800, length: 60)]))
        let ambiguous = try CLITests.swiftbpf(["run", object.path, "--pcap", input.path])
        #expect(ambiguous.status != 0)
        #expect(ambiguous.stderr == "Error: \(object.path): give --program, one of: count, forget\n")
        let missing = try CLITests.swiftbpf(["run", object.path, "--program", "nope", "--pcap", input.path])
        #expect(missing.stderr == "Error: \(object.path): the object has no program nope; it has count, forget\n")
        let noCapture = try CLITests.swiftbpf(["run", object.path, "--program", "count", "--pcap", "/nonexistent.pcap"])
        #expect(noCapture.status != 0 && noCapture.stderr == "Error: /nonexistent.pcap: no such file\n")
        let notObject = try CLITests.swiftbpf(["run", input.path, "--program", "count", "--pcap", input.path])
        #expect(notObject.status != 0 && notObject.stderr.hasPrefix("Error: \(input.path): ") && notObject.stderr.split(separator: "\n").count == 1)
        let stray = try CLITests.swiftbpf(["run", object.path, "--program", "count"])
        #expect(stray.status != 0 && stray.stderr.contains("--program and --write go with --pcap"))
    }
}

/// Examples/PluginServer: the request filter compiled with clang, loaded by the example
/// server, run on each request; its answers, the plugin's log lines through the server's
/// helper, and the counts it kept.
@Suite struct PluginExampleTests {
    @Test func serverRunsItsPlugin() throws {
        let source = CLITests.root.appendingPathComponent("Examples/PluginServer/request_filter.bpf.c")
        let object = try CLITests.temporaryFile("request_filter-\(UUID().uuidString).bpf.o", Data())
        _ = try Subprocess.output("/opt/swift/usr/bin/clang", ["-target", "bpf", "-O2", "-g", "-c", "-I/usr/include/x86_64-linux-gnu",
                                                              source.path, "-o", object.path])
        let server = CLITests.executable.deletingLastPathComponent().appendingPathComponent("swiftbpf-plugin-example")
        let requests = """
            GET /index.html HTTP/1.1
            GET /admin/users HTTP/1.1
            POST /upload HTTP/1.1
            GET /a-very-long-path/that/goes/on/and/on/and/on/past/the/limit HTTP/1.1
            GET
            """
        let result = try Subprocess.run(server.path, [object.path], input: Data((requests + "\n").utf8))
        #expect(result.status == 0, "\(result.errors)")
        #expect(result.text == """
            GET /index.html HTTP/1.1 -> 200 OK
              plugin says: refused: /admin is not served
            GET /admin/users HTTP/1.1 -> 403 Forbidden
            POST /upload HTTP/1.1 -> 200 OK
              plugin says: refused: longer than max_length
            GET /a-very-long-path/that/goes/on/and/on/and/on/past/the/limit HTTP/1.1 -> 403 Forbidden
            GET -> 400 Bad Request
            GET: 3
            POST: 1
            refused: 2

            """)
    }
}
