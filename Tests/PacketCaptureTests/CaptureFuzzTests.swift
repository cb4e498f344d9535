import Foundation
import PacketCapture
import Testing

/// `CaptureReader.fuzz` over thousands of damaged variants of real and synthetic captures:
/// truncations, bit flips, overwritten length fields, random bytes. Each must come back
/// with values or an error — no crash, no hang — and never more packets than its bytes hold.
struct CaptureFuzzTests {
    /// SplitMix64: the same variants on every run, so a failure can be replayed.
    struct Random {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9e37_79b9_7f4a_7c15
            var z = state
            z = (z ^ (z >> 30)) &* 0xbf58_476d_1ce4_e5b9
            z = (z ^ (z >> 27)) &* 0x94d0_49bb_1331_11eb
            return z ^ (z >> 31)
        }
        mutating func below(_ bound: Int) -> Int { bound <= 0 ? 0 : Int(next() % UInt64(bound)) }
    }

    static func seeds() throws -> [(String, [UInt8])] {
        var seeds: [(String, [UInt8])] = []
        var writer = CaptureWriter(format: .pcapng, precision: .nanoseconds, byteOrder: .big)
        try writer.addInterface(CaptureInterface(linkType: .ethernet, options: [CaptureOption(code: 2, string: "eth0")]))
        try writer.addInterface(CaptureInterface(linkType: .raw, timestampOffset: 7))
        for index in 0..<6 {
            try writer.write(Packet(timestamp: 10_000_000_000 + Int64(index) * 1_000_003, originalLength: 80, data: payload(index, count: 10 + index),
                                    interfaceIndex: index % 2, linkType: index % 2 == 0 ? .ethernet : .raw,
                                    options: index == 3 ? [CaptureOption(code: 1, string: "x")] : []))
        }
        seeds.append(("synthetic.pcapng", writer.takeBytes()))
        var pcap = CaptureWriter(format: .pcap, linkType: .linuxSLL2, precision: .nanoseconds)
        for index in 0..<6 { try pcap.write(Packet(timestamp: Int64(index), originalLength: 40, data: payload(index, count: 20), linkType: .linuxSLL2)) }
        seeds.append(("synthetic.pcap", pcap.takeBytes()))
        // Every pcapng of the corpus and a spread of the small pcaps.
        let files = CaptureTestData.corpusFiles()
        for (index, file) in files.enumerated() where file.pathExtension == "pcapng" || index % 8 == 0 {
            let bytes = try CaptureTestData.bytes(file)
            if bytes.count <= 64 * 1024 { seeds.append((file.lastPathComponent, bytes)) }
        }
        return seeds
    }

    /// IPv4 in IPv4 nested 3,000 deep (20 bytes each, as a crafted file may hold): the
    /// decoder stops at its tunnel limit and says so, rather than recursing 3,000 times.
    @Test func deeplyNestedTunnelsStopAtTheLimit() {
        let depth = 3000
        var packet: [UInt8] = []
        for level in 0..<depth {
            let total = (depth - level) * 20
            packet += [0x45, 0, UInt8(total >> 8), UInt8(total & 0xff), 0, 0, 0, 0, 64, 4, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2]
        }
        let summary = PacketDecoder.decode(packet, originalLength: packet.count, linkType: .raw)
        #expect(summary.undecoded == ["tunnels nested more than 32 deep"])
        #expect(summary.layers.count < 40)
    }

    /// The -v decoding (checksums, IP options, the packet an ICMP error quotes, reset data)
    /// and its printing on every corpus packet cut short and damaged, at -v, -vv and -vvv:
    /// it only ever returns a line.
    @Test func verboseDecodingOfDamagedPacketsNeverCrashes() throws {
        var random = Random(state: 0x0b5e_55ed)
        var lines = 0
        for file in CaptureTestData.corpusFiles() {
            guard var reader = try? CaptureReader(try CaptureTestData.bytes(file)) else { continue }
            var printer = PacketPrinter(verbosity: 1)
            for packet in reader.readAll().prefix(100) {
                for round in 0..<24 {
                    var data = packet.data
                    if round % 2 == 0 {
                        data = Array(data.prefix(random.below(min(data.count, 200) + 1)))
                    } else {
                        for _ in 0...random.below(6) where !data.isEmpty {
                            data[random.below(data.count)] = UInt8(truncatingIfNeeded: random.next())
                        }
                    }
                    printer.verbosity = 1 + round % 3
                    let originalLength = [packet.originalLength, data.count, data.count / 2][random.below(3)]
                    let summary = PacketDecoder.decode(data, originalLength: originalLength, linkType: packet.linkType, verbosity: printer.verbosity)
                    _ = printer.line(summary)
                    lines += 1
                }
            }
        }
        print("verbose fuzz: \(lines) lines")
        #expect(CaptureTestData.corpusFiles().isEmpty || lines > 50_000)
    }

    /// What -vv and -vvv decode beyond -v (a DNS message's every section and EDNS options,
    /// DCCP options, SCTP chunks with M3UA, IGMPv3 and MLDv2 source lists, neighbor
    /// discovery options in hex) on the corpus packets that carry it, damaged anywhere past
    /// the link header and cut anywhere: it only ever returns a line.
    @Test func moreVerboseDecodingOfDamagedPacketsNeverCrashes() throws {
        var random = Random(state: 0x77_5eed)
        var lines = 0
        for file in CaptureTestData.corpusFiles() {
            guard var reader = try? CaptureReader(try CaptureTestData.bytes(file)) else { continue }
            var printer = PacketPrinter(verbosity: 2)
            let carriers = reader.readAll().filter { packet in
                PacketDecoder.decode(packet, verbosity: 2).layers.contains {
                    switch $0 {
                    case .dns, .dccp, .sctp, .igmp, .icmpv6: true
                    default: false
                    }
                }
            }
            for packet in carriers.prefix(200) {
                for round in 0..<96 {
                    var data = packet.data
                    for _ in 0...random.below(4) where data.count > 14 {
                        data[14 + random.below(data.count - 14)] = [0, 0xff, 0xc0, 0x29, UInt8(truncatingIfNeeded: random.next())][random.below(5)]
                    }
                    if round % 4 == 0 { data = Array(data.prefix(random.below(data.count + 1))) }
                    printer.verbosity = 2 + round % 2
                    let summary = PacketDecoder.decode(data, originalLength: packet.originalLength, linkType: packet.linkType, verbosity: printer.verbosity)
                    _ = printer.line(summary)
                    lines += 1
                }
            }
        }
        print("-vv fuzz: \(lines) lines")
        #expect(CaptureTestData.corpusFiles().isEmpty || lines > 40_000)
    }

    /// ICMPv6 node information messages of any shape (NodeInformationTests' messages with
    /// bytes overwritten, cut anywhere, the IPv6 payload length anything), at every
    /// verbosity: each decodes as a node information message and prints a line.
    @Test func nodeInformationOfAnyShapeNeverCrashes() {
        var random = Random(state: 0x139_140)
        for round in 0..<20_000 {
            var message = NodeInformationTests.message(&random)
            for _ in 0..<random.below(4) where message.count > 1 {
                message[1 + random.below(message.count - 1)] = [0, 0xff, 0x3f, 0x20, UInt8(truncatingIfNeeded: random.next())][random.below(5)]
            }
            var frame = NodeInformationTests.frame(message)
            // The payload length (bytes 18 and 19) anything, and the capture cut anywhere.
            if round % 3 == 0 { frame[18 + random.below(2)] = UInt8(truncatingIfNeeded: random.next()) }
            if round % 4 == 0 { frame = Array(frame.prefix(54 + random.below(message.count + 1))) }
            let verbosity = round % 4
            let summary = PacketDecoder.decode(frame, originalLength: frame.count, linkType: .ethernet, verbosity: verbosity)
            #expect(summary.undecoded.isEmpty, "round \(round): \(summary.undecoded)")
            var printer = PacketPrinter(verbosity: verbosity)
            _ = printer.line(summary)
        }
    }

    @Test func damagedVariantsNeverCrash() throws {
        var random = Random(state: 0x5eed_ca97)
        var variants = 0, refused = 0, partial = 0
        func run(_ bytes: [UInt8], _ what: @autoclosure () -> String) {
            let result = CaptureReader.fuzz(bytes)
            variants += 1
            // Every record header or block takes at least 12 bytes.
            #expect(result.packets <= bytes.count / 12 + 1, "\(what())")
            #expect(result.rewritten == result.packets, "\(what()): rewritten as pcapng")
            if result.packets == 0 && result.error != nil { refused += 1 } else if result.error != nil { partial += 1 }
        }
        let seeds = try Self.seeds()
        for (name, seed) in seeds {
            let perSeed = max(20, 4000 / seeds.count)
            for round in 0..<perSeed {
                var bytes = seed
                switch round % 5 {
                case 0:  // truncate anywhere
                    bytes = Array(bytes.prefix(random.below(bytes.count + 1)))
                case 1:  // flip a few bits
                    for _ in 0...random.below(4) where !bytes.isEmpty {
                        bytes[random.below(bytes.count)] ^= UInt8(1) << UInt8(random.below(8))
                    }
                case 2:  // overwrite a 32-bit word with an extreme value (lengths, IDs, magic)
                    let extremes: [UInt32] = [0, 1, 3, 11, 12, 0x7fff_ffff, 0x8000_0000, 0xffff_fff0, 0xffff_ffff, 0x0a0d_0d0a]
                    if bytes.count >= 4 {
                        let at = random.below(bytes.count / 4) * 4
                        let value = extremes[random.below(extremes.count)]
                        for k in 0..<4 { bytes[at + k] = UInt8(truncatingIfNeeded: value >> (8 * UInt32(k))) }
                    }
                case 3:  // random bytes after a real header
                    let keep = min(bytes.count, 24 + random.below(64))
                    bytes = Array(bytes.prefix(keep)) + (0..<random.below(512)).map { _ in UInt8(truncatingIfNeeded: random.next()) }
                default:  // splice: duplicate or drop a stretch
                    if bytes.count > 8 {
                        let from = random.below(bytes.count), count = random.below(min(64, bytes.count - from))
                        if random.below(2) == 0 { bytes.insert(contentsOf: bytes[from..<from + count], at: random.below(bytes.count)) } else { bytes.removeSubrange(from..<from + count) }
                    }
                }
                run(bytes, "\(name) round \(round)")
            }
        }
        // Pure noise behind each magic number.
        for magic: [UInt8] in [[0xd4, 0xc3, 0xb2, 0xa1], [0xa1, 0xb2, 0xc3, 0xd4], [0x4d, 0x3c, 0xb2, 0xa1], [0x0a, 0x0d, 0x0d, 0x0a], [0x34, 0xcd, 0xb2, 0xa1]] {
            for _ in 0..<200 {
                run(magic + (0..<random.below(300)).map { _ in UInt8(truncatingIfNeeded: random.next()) }, "noise")
            }
        }
        print("fuzz: \(variants) variants of \(seeds.count) seeds: \(refused) refused, \(partial) partial, \(variants - refused - partial) read fully")
        #expect(variants >= 4000)
    }
}
