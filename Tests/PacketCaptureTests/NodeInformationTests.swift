import Foundation
import PacketCapture
import TestPeers
import Testing

/// ICMPv6 node information queries and replies (RFC 4620), which the corpus has only nine
/// of: hundreds built here from random parts — every query type and code, flags, subjects
/// of the right and wrong size, DNS names fully qualified, not, in draft 03's form and
/// malformed, address lists with a partial entry, messages cut short by the capture or by
/// the IPv6 payload length — printed by tcpdump at test time with -n and -v to -vvv.
struct NodeInformationTests {
    static let source: [UInt8] = [0xfe, 0x80] + [UInt8](repeating: 0, count: 13) + [1]
    static let destination: [UInt8] = [0x20, 0x01, 0x0d, 0xb8] + [UInt8](repeating: 0, count: 11) + [2]

    /// Ethernet and IPv6 around `message`, the payload length `extra` bytes more than it holds.
    static func frame(_ message: [UInt8], extra: Int = 0) -> [UInt8] {
        let payloadLength = message.count + extra
        let ip: [UInt8] = [0x60, 0, 0, 0, UInt8(payloadLength >> 8), UInt8(payloadLength & 0xff), 58, 64] + source + destination
        return [0x33, 0x33, 0, 0, 0, 1, 2, 0, 0, 0, 0, 1, 0x86, 0xdd] + ip + message
    }

    /// Labels of random length and content, some bytes unprintable.
    static func labels(_ random: inout CaptureFuzzTests.Random) -> [UInt8] {
        var bytes: [UInt8] = []
        for _ in 0...random.below(3) {
            let count = 1 + random.below(9)
            bytes.append(UInt8(count))
            for _ in 0..<count {
                bytes.append(random.below(8) == 0 ? [0, 0x7f, 0xc3, 0x2e][random.below(4)] : UInt8(97 + random.below(26)))
            }
        }
        return bytes
    }

    /// A DNS name as a query's subject or a reply's data may hold it, well or badly formed.
    static func name(_ random: inout CaptureFuzzTests.Random) -> [UInt8] {
        let labels = labels(&random)
        switch random.below(7) {
        case 0: return labels + [0]  // fully qualified
        case 1: return labels + [0, 0]  // not fully qualified
        case 2: return [UInt8(labels.count)] + labels  // draft 03: one length for the rest
        case 3: return labels + [0, 0] + labels + [0]  // a zero inside
        case 4: return labels + [UInt8(20 + random.below(40))] + [97, 98]  // a label past the end
        case 5: return labels  // no end at all
        default: return labels + [0, UInt8(random.below(256))]
        }
    }

    /// One node information message: header, nonce, then data of one of many shapes.
    static func message(_ random: inout CaptureFuzzTests.Random) -> [UInt8] {
        let type: UInt8 = random.below(2) == 0 ? 139 : 140
        let code = UInt8([0, 0, 1, 2, 3][random.below(5)])
        let queryType = UInt16(random.below(6))
        let flags = [0, 1, 2, 0x0e, 0x3e, 0x7f, UInt16(truncatingIfNeeded: random.next())][random.below(7)]
        var message: [UInt8] = [type, code, 0, 0, UInt8(queryType >> 8), UInt8(queryType & 0xff), UInt8(flags >> 8), UInt8(flags & 0xff)]
        message += (0..<8).map { _ in UInt8(truncatingIfNeeded: random.next()) }
        let ttl: [UInt8] = [0, 0, UInt8(random.below(2)), UInt8(random.below(256))]
        switch random.below(9) {
        case 0: break
        case 1: message += [0x20, 0x01, 0x0d, 0xb8] + [UInt8](repeating: 0, count: 11) + [UInt8(random.below(256))]
        case 2: message += [192, 0, 2, UInt8(random.below(256))]
        case 3: message += name(&random)
        case 4: message += ttl + name(&random)
        case 5:
            // Node addresses, each after its time to live, the last maybe partial.
            for index in 0..<random.below(4) {
                message += ttl + [0x20, 0x01, 0x0d, 0xb8] + [UInt8](repeating: 0, count: 11) + [UInt8(index + 1)]
            }
            message += (0..<random.below(3) * 7).map { _ in 0x11 }
        case 6: message += (0..<random.below(4)).map { _ in 0 }
        default: message += (0..<random.below(40)).map { _ in UInt8(truncatingIfNeeded: random.next()) }
        }
        // KAME's 12-byte who-are-you, or a header cut shorter than the nonce.
        if random.below(12) == 0 { message = Array(message.prefix([12, 12, random.below(16)][random.below(3)])) }
        return message
    }

    /// The messages as Ethernet packets; some captured short, some shorter than their IPv6
    /// payload length says.
    static func packets() -> [Packet] {
        var random = CaptureFuzzTests.Random(state: 0x4e1_5eed)
        return (0..<800).map { index in
            let message = message(&random)
            let frame = frame(message, extra: random.below(10) == 0 ? 1 + random.below(20) : 0)
            let captured = random.below(10) == 0 ? 54 + random.below(message.count + 1) : frame.count
            return Packet(timestamp: Int64(index) * 1_000_000_000, originalLength: frame.count, data: Array(frame.prefix(captured)), linkType: .ethernet)
        }
    }

    /// What the generated messages must reach, each in lines that agree with tcpdump's.
    static let branches = [
        "who-are-you request who-are-you request", "query (noop", "supported qtypes [C]", "supported qtypes []",
        "DNS name", "node addresses [", ", subject=2001:db8::", ", subject=192.0.2.", "invalid subject len", "unknown subject",
        ", 03 draft", ".\"", "???", "^@", "M-C", "[TTL=", "(success, ", "(refused", "invalid length", "reply ()",
        "query [|icmp6]", "reply [|icmp6]", "DNS name [|icmp6]", "2001:db8::1(", "[|icmp6], length",
    ]

    @Test func craftedMessagesPrintAsTcpdump() throws {
        guard let tcpdump = CaptureTestData.tcpdump() else { return }
        let packets = Self.packets()
        var writer = CaptureWriter(format: .pcap, linkType: .ethernet)
        for packet in packets { try writer.write(packet) }
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("node-information-\(getpid()).pcap")
        try Data(writer.takeBytes()).write(to: file)
        defer { try? FileManager.default.removeItem(at: file) }
        var reached: [String: Int] = [:]
        var compared = 0
        for verbosity in 0...3 {
            let option = verbosity == 0 ? [] : ["-" + String(repeating: "v", count: verbosity)]
            let output = try Subprocess.run(tcpdump.path, ["-n", "-t"] + option + ["-r", file.path]).text
            // A packet is its line and the indented lines under it.
            var theirs: [String] = []
            for line in output.split(separator: "\n") {
                if line.hasPrefix(" ") || line.hasPrefix("\t"), !theirs.isEmpty { theirs[theirs.count - 1] += "\n" + line } else { theirs.append(String(line)) }
            }
            #expect(theirs.count == packets.count, "tcpdump printed \(theirs.count) packets of \(packets.count) at verbosity \(verbosity)")
            var printer = PacketPrinter(verbosity: verbosity)
            for (index, packet) in packets.enumerated() where index < theirs.count {
                let summary = PacketDecoder.decode(packet, verbosity: verbosity)
                let ours = printer.line(summary)
                #expect(summary.undecoded.isEmpty, "packet \(index + 1): \(summary.undecoded)")
                #expect(ours == theirs[index], "packet \(index + 1) at verbosity \(verbosity):\n    ours:    \(ours)\n    tcpdump: \(theirs[index])")
                guard ours == theirs[index] else { continue }
                compared += 1
                for branch in Self.branches where ours.contains(branch) { reached[branch, default: 0] += 1 }
            }
        }
        print("node information: \(compared) lines agree with tcpdump; " + Self.branches.map { "\($0) \(reached[$0] ?? 0)" }.joined(separator: ", "))
        for branch in Self.branches { #expect(reached[branch] != nil, "no agreeing line shows \(branch)") }
    }
}
