import Foundation
import PacketCapture
import TestPeers
import Testing

/// Packets the corpus lacks, built here and printed by tcpdump at test time: TCP Fast Open
/// on its own option kind (and as an experimental option), malformed MPTCP options, mDNS
/// questions and answers with the class's top bit, and an EtherType tcpdump does not know.
struct CraftedDecodeTests {
    static let source: [UInt8] = [192, 0, 2, 1], destination: [UInt8] = [192, 0, 2, 2]

    /// Ethernet and IPv4 around `payload` of IP protocol `protocolNumber`.
    static func ipv4Frame(_ protocolNumber: UInt8, _ payload: [UInt8]) -> [UInt8] {
        let total = 20 + payload.count
        let ip: [UInt8] = [0x45, 0, UInt8(total >> 8), UInt8(total & 0xff), 0, 1, 0, 0, 64, protocolNumber, 0, 0] + source + destination
        return [2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1, 0x08, 0x00] + ip + payload
    }

    /// A TCP segment with `flags` and `options` (padded with nops to a multiple of 4).
    static func tcp(flags: UInt8, options: [UInt8]) -> [UInt8] {
        let padded = options + [UInt8](repeating: 1, count: (4 - options.count % 4) % 4)
        let offset = UInt8((20 + padded.count) / 4) << 4
        return [0x9c, 0x40, 0, 80, 0, 0, 0, 1, 0, 0, 0, 0, offset, flags, 0xff, 0xff, 0, 0, 0, 0] + padded
    }

    static func udp(port: UInt16, _ payload: [UInt8]) -> [UInt8] {
        let length = 8 + payload.count
        return [UInt8(port >> 8), UInt8(port & 0xff), UInt8(port >> 8), UInt8(port & 0xff), UInt8(length >> 8), UInt8(length & 0xff), 0, 0] + payload
    }

    /// A DNS name in labels.
    static func name(_ text: String) -> [UInt8] {
        text.split(separator: ".").flatMap { [UInt8($0.utf8.count)] + Array($0.utf8) } + [0]
    }

    /// `frames` as Ethernet packets a second apart, and a temporary pcap file of them for
    /// tcpdump, which the caller removes.
    static func pcapFile(_ frames: [[UInt8]], name: String) throws -> (file: URL, packets: [Packet]) {
        var writer = CaptureWriter(format: .pcap, linkType: .ethernet)
        let packets = frames.enumerated().map { index, frame in
            Packet(timestamp: Int64(index) * 1_000_000_000, originalLength: frame.count, data: frame, linkType: .ethernet)
        }
        for packet in packets { try writer.write(packet) }
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("\(name)-\(getpid()).pcap")
        try Data(writer.takeBytes()).write(to: file)
        return (file, packets)
    }

    static var frames: [[UInt8]] {
        let syn: UInt8 = 0x02, ack: UInt8 = 0x10
        let cookie: [UInt8] = [1, 2, 3, 4, 5, 6, 7, 8]
        let mdnsQuery: [UInt8] = [0, 0, 0, 0, 0, 2, 0, 0, 0, 0, 0, 0]
            + name("_http._tcp.local") + [0, 12, 0x80, 1] + name("printer.local") + [0, 1, 0, 1]
        let mdnsAnswer: [UInt8] = [0, 0, 0x84, 0, 0, 0, 0, 2, 0, 0, 0, 0]
            + name("printer.local") + [0, 1, 0x80, 1, 0, 0, 0, 120, 0, 4, 192, 0, 2, 9]
            + name("printer.local") + [0, 28, 0, 1, 0, 0, 0, 120, 0, 16] + [UInt8](repeating: 0, count: 15) + [1]
        return [
            ipv4Frame(6, tcp(flags: syn, options: [2, 4, 5, 0xb4, 34, 2])),  // Fast Open cookie request
            ipv4Frame(6, tcp(flags: syn | ack, options: [34, 10] + cookie)),  // a cookie
            ipv4Frame(6, tcp(flags: syn, options: [34, 5, 1, 2, 3])),  // an odd cookie length
            ipv4Frame(6, tcp(flags: syn, options: [254, 4, 0xf9, 0x89])),  // experimental kind
            ipv4Frame(6, tcp(flags: syn, options: [254, 12, 0xf9, 0x89] + cookie)),
            ipv4Frame(6, tcp(flags: ack, options: [30, 4, 0x01, 0x00])),  // MP_CAPABLE without SYN
            ipv4Frame(6, tcp(flags: ack, options: [8, 10, 0, 0, 0, 1, 0, 0, 0, 2, 30, 5, 0x20, 0x01, 0])),  // DSS cut short
            ipv4Frame(6, tcp(flags: ack, options: [30, 6, 0x40, 1, 2, 3])),  // REMOVE_ADDR
            ipv4Frame(17, udp(port: 5353, mdnsQuery)),
            ipv4Frame(17, udp(port: 5353, mdnsAnswer)),
            // Responses that end inside their questions: no section counts after the second's
            // missing name; counts after a name whose type and class are missing.
            ipv4Frame(17, udp(port: 53, [0x12, 0x34, 0x81, 0x80, 0, 2, 0, 0, 0, 0, 0, 0] + name("example.com") + [0, 1, 0, 1])),
            ipv4Frame(17, udp(port: 53, [0x12, 0x35, 0x81, 0x80, 0, 1, 0, 0, 0, 0, 0, 0] + name("example.com"))),
            [1, 0, 0x5e, 0, 0, 1, 2, 0, 0, 0, 0, 1, 0x88, 0xb5] + [UInt8](repeating: 0x5a, count: 46),  // unknown EtherType
        ]
    }

    @Test func craftedPacketsPrintAsTcpdump() throws {
        guard let tcpdump = CaptureTestData.tcpdump() else { return }
        let (file, packets) = try Self.pcapFile(Self.frames, name: "crafted")
        defer { try? FileManager.default.removeItem(at: file) }
        let theirs = try DecodeDifferentialTests.tcpdumpLines(tcpdump, file)
        #expect(theirs.count == packets.count)
        var printer = PacketPrinter()
        for (index, packet) in packets.enumerated() {
            let summary = PacketDecoder.decode(packet)
            let ours = printer.line(summary)
            let expected = theirs[index + 1]
            print("crafted \(index + 1): \(ours)")
            #expect(summary.undecoded.isEmpty, "packet \(index + 1): \(summary.undecoded)")
            #expect(ours == expected?.line && expected?.continued == false, "packet \(index + 1):\n    ours:    \(ours)\n    tcpdump: \(expected?.line ?? "-")")
        }
    }
}

/// Packets the corpus lacks for what -vv prints, built here and printed by tcpdump -vv at
/// test time: SCTP DATA chunks with M3UA and with another payload, EDNS options of every
/// kind tcpdump names (valid and not), and DCCP options.
struct CraftedVeryVerboseTests {
    /// An SCTP DATA chunk with payload protocol `payloadProtocol`, padded to 4 bytes.
    static func sctpData(_ payloadProtocol: UInt8, _ payload: [UInt8]) -> [UInt8] {
        let length = 16 + payload.count
        let chunk: [UInt8] = [0, 3, UInt8(length >> 8), UInt8(length & 0xff), 0, 0, 0, 7, 0, 1, 0, 2, 0, 0, 0, payloadProtocol]
        return [0x0b, 0x59, 0x0b, 0x59, 0, 0, 0, 1, 0, 0, 0, 0] + chunk + payload + [UInt8](repeating: 0, count: (4 - length % 4) % 4)
    }

    /// An M3UA message: version 1, `messageClass`, `type`, the length (or `claimed`), then parameters.
    static func m3ua(_ messageClass: UInt8, _ type: UInt8, _ parameters: [UInt8], claimed: Int? = nil) -> [UInt8] {
        let length = claimed ?? 8 + parameters.count
        return [1, 0, messageClass, type, 0, 0, UInt8(length >> 8), UInt8(length & 0xff)] + parameters
    }

    /// A DNS query for example.com with one OPT record holding `options` (code, data).
    static func ednsQuery(_ options: [(UInt16, [UInt8])]) -> [UInt8] {
        let data = options.flatMap { code, bytes in [UInt8(code >> 8), UInt8(code & 0xff), UInt8(bytes.count >> 8), UInt8(bytes.count & 0xff)] + bytes }
        return [0x12, 0x34, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 1] + CraftedDecodeTests.name("example.com") + [0, 1, 0, 1]
            + [0, 0, 41, 0x10, 0x00, 0, 0, 0x80, 0, UInt8(data.count >> 8), UInt8(data.count & 0xff)] + data
    }

    /// A DCCP Request (short sequence numbers) with `options` after the service code.
    static func dccpRequest(_ options: [UInt8]) -> [UInt8] {
        let padded = options + [UInt8](repeating: 0, count: (4 - options.count % 4) % 4)
        let offset = UInt8((16 + padded.count) / 4)
        return [0x9c, 0x40, 0x13, 0x89, offset, 0, 0, 0, 0x00, 0, 0, 42, 0, 0, 0, 9] + padded
    }

    static var frames: [[UInt8]] {
        let frame = CraftedDecodeTests.ipv4Frame
        let udp = CraftedDecodeTests.udp
        return [
            frame(132, sctpData(0, Array("hello, sctp payload!".utf8))),
            frame(132, sctpData(3, m3ua(1, 1, [0, 6, 0, 8, 0, 0, 0, 5, 0x02, 0x00, 0, 8, 0, 0, 0, 1, 0x02, 0x10, 0, 9, 1, 2, 3, 4, 5, 0, 0, 0]))),
            frame(132, sctpData(3, m3ua(3, 3, [0, 9, 0, 6, 1, 2, 0, 0], claimed: 99))),
            frame(132, sctpData(3, m3ua(7, 1, [0x7f, 0x7f, 0, 2]))),
            frame(17, udp(53, ednsQuery([(8, [0, 1, 24, 0, 192, 0, 2]), (11, [0, 25]), (9, [0, 0, 0x0e, 0x10]), (12, [0, 0, 0])]))),
            frame(17, udp(53, ednsQuery([(14, [0, 1, 0, 2]), (5, [8, 13, 99]), (6, [1, 2]), (7, [1]), (3, [0xab, 0xcd])]))),
            frame(17, udp(53, ednsQuery([(10, [1, 2, 3]), (8, [0, 3, 0, 0]), (11, [1]), (13, CraftedDecodeTests.name("example")), (99, [])]))),
            frame(33, dccpRequest([0, 1, 32, 4, 1, 2, 41, 6, 0, 0, 1, 0, 42, 8, 0, 0, 0, 5, 0, 3, 43, 4, 0, 7, 44, 6, 1, 2, 3, 4, 130, 4, 0, 9])),
            frame(33, dccpRequest([36, 5, 0xaa, 0xbb, 0xcc, 37, 3, 4, 32, 1])),
        ]
    }

    @Test func craftedPacketsPrintAsTcpdumpWithVV() throws {
        guard let tcpdump = CaptureTestData.tcpdump() else { return }
        let (file, packets) = try CraftedDecodeTests.pcapFile(Self.frames, name: "crafted-vv")
        defer { try? FileManager.default.removeItem(at: file) }
        for verbosity in [2, 3] {
            let output = try Subprocess.run(tcpdump.path, ["-n", "-t", "-" + String(repeating: "v", count: verbosity), "-r", file.path]).text
            // A packet is its line and the indented lines under it.
            var theirs: [String] = []
            for line in output.split(separator: "\n") {
                if line.hasPrefix(" ") || line.hasPrefix("\t"), !theirs.isEmpty { theirs[theirs.count - 1] += "\n" + line } else { theirs.append(String(line)) }
            }
            #expect(theirs.count == packets.count)
            var printer = PacketPrinter(verbosity: verbosity)
            for (index, packet) in packets.enumerated() where index < theirs.count {
                let summary = PacketDecoder.decode(packet, verbosity: verbosity)
                let ours = printer.line(summary)
                print("crafted -\(String(repeating: "v", count: verbosity)) \(index + 1): \(ours)")
                #expect(summary.undecoded.isEmpty, "packet \(index + 1): \(summary.undecoded)")
                #expect(ours == theirs[index], "packet \(index + 1) at verbosity \(verbosity):\n    ours:    \(ours)\n    tcpdump: \(theirs[index])")
            }
        }
    }
}
