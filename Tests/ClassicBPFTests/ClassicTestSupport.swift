import BPFInstructions
import ClassicBPF
import Foundation
import PacketCapture
import TestPeers
import Testing

/// Peers and data for the classic BPF tests: tcpdump (the reference for the text forms and
/// the source of real filters), the shared capture corpus, and seeded random programs and
/// packets so that every failure can be replayed.
enum ClassicTestSupport {
    static var peersRequired: Bool { ProcessInfo.processInfo.environment["SWIFTBPF_REQUIRE_PEERS"] == "1" }
    static var kernelRequired: Bool { ProcessInfo.processInfo.environment["SWIFTBPF_REQUIRE_KERNEL"] == "1" }

    static let repositoryRoot = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    static var shared: URL {
        if let path = ProcessInfo.processInfo.environment["SWIFTBPF_SHARED"] { return URL(fileURLWithPath: path) }
        return repositoryRoot.deletingLastPathComponent().appendingPathComponent("shared")
    }

    // MARK: tcpdump

    /// The tcpdump executable, or nil after printing why (an issue when peers are required).
    static func tcpdump() -> String? {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? ""
        for folder in path.split(separator: ":").map(String.init) + ["/usr/sbin", "/usr/bin", "/sbin"] {
            let candidate = folder + "/tcpdump"
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        if peersRequired {
            Issue.record("tcpdump is not installed and SWIFTBPF_REQUIRE_PEERS=1")
        } else {
            print("skipped: tcpdump is not installed (apt-get install tcpdump)")
        }
        return nil
    }

    struct ProcessFailure: Error, CustomStringConvertible {
        var description: String
    }

    /// What `tcpdump <flag> -y <linkType> [-O] <expression>` prints.
    static func compile(_ tcpdump: String, _ filter: Filter, flag: String) throws -> String {
        let arguments = [flag, "-y", filter.linkType] + (filter.optimized ? [] : ["-O"]) + ["--", filter.expression]
        let result = try Subprocess.run(tcpdump, arguments)
        guard result.status == 0 else { throw ProcessFailure(description: "tcpdump \(flag) \(filter): \(result.errors)") }
        return result.text
    }

    struct Filter: Sendable, CustomStringConvertible {
        var linkType: String
        var expression: String
        var optimized: Bool

        var description: String { "-y \(linkType)\(optimized ? "" : " -O") '\(expression)'" }
    }

    /// Filters covering tcpdump's code generator: protocols, hosts, ports, byte tests,
    /// arithmetic (all ALU operations, X forms, scratch memory), VLAN and 802.11 headers.
    static let expressions = [
        "tcp port 80", "ip", "ip6", "arp", "tcp", "udp", "icmp", "host 192.168.1.1", "net 10.0.0.0/8",
        "src host 10.1.2.3 and dst port 53", "tcp[tcpflags] & (tcp-syn|tcp-ack) == tcp-syn", "ip[2:2] > 576",
        "len > 100", "less 64", "greater 1000", "ether host 00:11:22:33:44:55", "ether broadcast",
        "ether multicast", "vlan", "vlan 100 and tcp", "mpls", "portrange 1000-2000", "udp port 53 or tcp port 53",
        "icmp[icmptype] == icmp-echo", "ip6 and tcp port 443", "not port 22", "ip proto 47", "ip6 protochain 6",
        "tcp[13] & 2 != 0", "ip[0] & 0xf != 5", "udp[8:4] = 0x12345678", "pppoes and ip", "sctp", "ip multicast",
        "(tcp or udp) and not host 1.2.3.4",
        "tcp dst port 80 and (((ip[2:2] - ((ip[0]&0xf)<<2)) - ((tcp[12]&0xf0)>>2)) != 0)",
        "ip[2:2] * 2 / 3 % 5 > 1", "ip[8] ^ 0xff > 0x80", "len << 2 > 100", "len >> 1 < 50", "-len < 0",
        "ip and 0 < -ip[2]", "ip[2:2] - len > 0", "tcp[(tcp[12]>>2):4] = 0x47455420",
        "ip host 10.0.0.1 and ip host 10.0.0.2", "icmp6", "ip6 multicast", "ether proto 0x88cc",
        "wlan host 00:11:22:33:44:55", "dst net 192.168.0.0 mask 255.255.0.0", "igmp", "udp and udp[4:2] > 100",
        "tcp port ftp or tcp port ftp-data", "ip and not net 127.0.0.0/8", "ip6 dst host ::1", "vlan and vlan and ip",
        "geneve", "ip[2:2] % 7 = 3", "ip[4:2] | 0x0f00 = 0xff00", "len & 1 = 1", "ip[9] * 3 >= 18",
        "ether[12:2] = 0x0800 and ether[23] = 6", "ip[ip[0] & 0xf] > 3", "tcp[0:2] > tcp[2:2]",
        "udp[4:2] >> ip[0] & 3 = 1", "ip[1] << ip[2] & 0xff = 4",
    ]

    static let filters: [Filter] = {
        var filters = expressions.map { Filter(linkType: "EN10MB", expression: $0, optimized: true) }
        filters += expressions.prefix(40).map { Filter(linkType: "EN10MB", expression: $0, optimized: false) }
        for linkType in ["RAW", "LINUX_SLL", "LINUX_SLL2", "NULL", "IEEE802_11_RADIO", "PPP"] {
            let wireless = linkType == "IEEE802_11_RADIO" ? ["wlan host 00:11:22:33:44:55", "wlan type data"] : []
            for expression in ["tcp port 80", "host 10.0.0.1 and udp", "ip6 and tcp", "ip[2:2] > 100"] + wireless {
                filters.append(Filter(linkType: linkType, expression: expression, optimized: true))
            }
        }
        return filters
    }()

    /// Every filter tcpdump compiles, as raw instructions (from `-ddd`); empty when tcpdump is absent.
    static let compiledFilters: [(filter: Filter, instructions: [RawClassicInstruction])] = {
        guard let tcpdump = tcpdumpPath else { return [] }
        var result: [(Filter, [RawClassicInstruction])] = []
        for filter in filters {
            guard let text = try? compile(tcpdump, filter, flag: "-ddd"),
                  let instructions = try? ClassicTextFormat.decimal.parse(text) else { continue }
            result.append((filter, instructions))
        }
        return result
    }()

    /// Lookup without recording an issue, for the shared compiled list.
    private static let tcpdumpPath: String? = {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? ""
        for folder in path.split(separator: ":").map(String.init) + ["/usr/sbin", "/usr/bin", "/sbin"] {
            let candidate = folder + "/tcpdump"
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        return nil
    }()

    /// The compiled filters the kernel accepts (all but those with backward jumps).
    static var validFilterPrograms: [(filter: Filter, program: ClassicProgram)] {
        compiledFilters.compactMap { entry in (try? ClassicProgram(entry.instructions)).map { (entry.filter, $0) } }
    }

    // MARK: Packets

    /// Packets from the shared capture corpus (pcap and pcapng), at most `limit`; empty
    /// after printing why when the corpus is absent outside CI.
    static func capturedPackets(limit: Int) -> [[UInt8]] { capturedRecords(limit: limit).map(\.bytes) }

    /// Like `capturedPackets`, with each packet's length on the wire.
    static func capturedRecords(limit: Int) -> [CapturedPacket] {
        let folder = shared.appendingPathComponent("pcaps/tcpdump")
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: folder.path) else {
            let environment = ProcessInfo.processInfo.environment
            if environment["CI"] != nil || peersRequired {
                Issue.record("the capture corpus is missing: \(folder.path)")
            } else {
                print("skipped: no capture corpus at \(folder.path)")
            }
            return []
        }
        var packets: [CapturedPacket] = []
        for name in names.sorted() where name.hasSuffix(".pcap") || name.hasSuffix(".pcapng") {
            guard let data = FileManager.default.contents(atPath: folder.appendingPathComponent(name).path),
                  var reader = try? CaptureReader([UInt8](data)) else { continue }
            // A few packets from each file keep every link type and protocol in the mix; some
            // files are damaged on purpose, and the reader stops at the damage.
            var taken = 0
            while taken < 8, let packet = reader.next() {
                packets.append(CapturedPacket(bytes: packet.data, originalLength: UInt32(clamping: packet.originalLength)))
                taken += 1
            }
            if packets.count >= limit { break }
        }
        return Array(packets.prefix(limit))
    }

    /// Random bytes of random lengths, and Ethernet/IPv4/IPv6 frames with TCP, UDP and
    /// ICMP whose fields are random, so that filters take both branches.
    static func randomPackets(count: Int, using generator: inout SeededGenerator) -> [[UInt8]] {
        (0..<count).map { index in
            if index % 3 == 0 {
                return (0..<Int.random(in: 0...120, using: &generator)).map { _ in UInt8.random(in: 0...255, using: &generator) }
            }
            return frame(using: &generator)
        }
    }

    static func frame(using generator: inout SeededGenerator) -> [UInt8] {
        func random(_ count: Int) -> [UInt8] { (0..<count).map { _ in UInt8.random(in: 0...255, using: &generator) } }
        func pick<T>(_ values: [T]) -> T { values[Int.random(in: 0..<values.count, using: &generator)] }
        var bytes = pick([[0xff, 0xff, 0xff, 0xff, 0xff, 0xff], [0x00, 0x11, 0x22, 0x33, 0x44, 0x55], random(6)]) + random(6)
        let vlan = Bool.random(using: &generator)
        if vlan { bytes += [0x81, 0x00, 0x00, pick([100, 5, 0])] }
        let ipv6 = Int.random(in: 0..<4, using: &generator) == 0
        bytes += ipv6 ? [0x86, 0xdd] : pick([[0x08, 0x00], [0x08, 0x00], [0x08, 0x06]])
        let proto = pick([6, 6, 17, 1, 47, 58])
        let ports: [UInt8] = pick([[0, 80], [0x1f, 0x90], [0, 53], [0, 22], [0x01, 0xbb]])
        let transport: [UInt8] = random(2) + ports + random(8) + [pick([0x50, 0x60, 0x80]), pick([0x02, 0x12, 0x10])] + random(6)
        if ipv6 {
            bytes += [0x60, 0, 0, 0, 0, UInt8(transport.count), UInt8(proto), 64] + random(16)
            bytes += pick([random(16), [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]])
        } else {
            let headerWords = pick([5, 5, 6, 15])
            let total = headerWords * 4 + transport.count
            bytes += [UInt8(0x40 | headerWords), 0, UInt8(total >> 8), UInt8(total & 0xff)] + random(2)
            bytes += [pick([0, 0, 0x20, 0x40]), pick([0, 0, 5])] + [64, UInt8(proto)] + random(2)
            bytes += pick([[10, 0, 0, 1], [192, 168, 1, 1], [1, 2, 3, 4], random(4)])
            bytes += pick([[10, 0, 0, 2], [224, 0, 0, 1], random(4)])
            bytes += random((headerWords - 5) * 4)
        }
        bytes += transport + random(Int.random(in: 0...40, using: &generator))
        // Some frames are cut short, as a small snap length would cut them.
        if Int.random(in: 0..<6, using: &generator) == 0 {
            bytes = Array(bytes.prefix(Int.random(in: 0...bytes.count, using: &generator)))
        }
        return bytes
    }

    static func randomAncillary(using generator: inout SeededGenerator, packetLength: Int) -> AncillaryData {
        func random<T: FixedWidthInteger>(_: T.Type) -> T { T.random(in: T.min...T.max, using: &generator) }
        let network = Int.random(in: 0..<4, using: &generator)
        return AncillaryData(
            protocol: Bool.random(using: &generator) ? 0x0800 : random(UInt16.self), packetType: random(UInt8.self) & 7,
            interfaceIndex: random(UInt32.self), mark: random(UInt32.self), queue: random(UInt16.self),
            hardwareType: random(UInt16.self), receiveHash: random(UInt32.self), cpu: random(UInt32.self) & 63,
            vlanTag: random(UInt16.self), vlanTagPresent: Bool.random(using: &generator), vlanProtocol: 0x8100,
            payloadOffset: random(UInt32.self) & 0xff, random: random(UInt32.self),
            networkHeaderOffset: network == 0 ? nil : network == 1 ? random(UInt32.self) : UInt32.random(in: 0...UInt32(packetLength + 4), using: &generator),
            linkLayerHeaderOffset: network == 3 ? nil : UInt32.random(in: 0...3, using: &generator))
    }
}

/// SplitMix64: small, fast and the same everywhere, so a seed names a test case.
struct SeededGenerator: RandomNumberGenerator {
    var state: UInt64

    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9e37_79b9_7f4a_7c15
        var z = state
        z = (z ^ (z >> 30)) &* 0xbf58_476d_1ce4_e5b9
        z = (z ^ (z >> 27)) &* 0x94d0_49bb_1331_11eb
        return z ^ (z >> 31)
    }
}

/// One packet of a capture file: the bytes captured and the length it had on the wire.
struct CapturedPacket {
    var bytes: [UInt8]
    var originalLength: UInt32
}
