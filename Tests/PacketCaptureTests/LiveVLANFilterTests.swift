#if os(Linux)
import ClassicBPF
import Foundation
import Glibc
import PacketCapture
import PacketFilter
import TestPeers
import Testing

/// `vlan` filters on a live Linux socket, where the kernel has taken the outer VLAN tag out
/// of each received frame before the socket filter runs (libpcap then reads it with the
/// ancillary loads `[vlanp]` and `[vlan_tci]`). A `SocketFilter` that reads VLAN tags runs
/// in user space on the frame with its tag put back; the others run in the kernel on the
/// frame as the kernel has it. Either way the packets kept must be those libpcap keeps.
@Suite(.serialized) struct LiveVLANFilterTests {
    /// The frames both tests use: Ethernet/IPv4 with 0, 1 or 2 tags (outer first).
    struct Sample {
        var tags: [(protocolID: UInt16, tci: UInt16)]
        var ipProtocol: UInt8 = 17
    }

    static let samples: [Sample] = [
        Sample(tags: []),                                      // 0: untagged UDP
        Sample(tags: [(0x8100, 5)]),                           // 1: VLAN 5, UDP
        Sample(tags: [(0x8100, 6)]),                           // 2: VLAN 6, UDP
        Sample(tags: [(0x8100, 5)], ipProtocol: 6),            // 3: VLAN 5, TCP
        Sample(tags: [(0x88a8, 5), (0x8100, 7)]),              // 4: QinQ 5 then 7, UDP
        Sample(tags: [(0x8100, 6), (0x8100, 8)]),              // 5: VLAN 6 then 8, UDP
        Sample(tags: [(0x8100, 0x2005)]),                      // 6: VLAN 5 with priority 1
    ]

    /// The frame of `sample` as sent, tags in place, numbered `number` in its IPv4 id.
    static func taggedFrame(_ sample: Sample, _ number: Int) -> [UInt8] {
        var bytes = frame(port: 9999, number)
        bytes[23] = sample.ipProtocol
        return tagged(bytes, sample.tags)
    }

    /// The frame as a socket filter sees it: without its outer tag, which is in the
    /// ancillary data.
    static func kernelView(_ sample: Sample, _ number: Int) -> (frame: [UInt8], ancillary: AncillaryData) {
        var bytes = taggedFrame(sample, number)
        guard let outer = sample.tags.first else { return (bytes, AncillaryData()) }
        bytes.removeSubrange(12..<16)
        return (bytes, AncillaryData(vlanTag: outer.tci, vlanTagPresent: true, vlanProtocol: outer.protocolID))
    }

    /// Whether our filter for a live socket keeps `sample`, where it would run.
    static func keeps(_ filter: SocketFilter, _ sample: Sample) -> Bool {
        let interpreter = ClassicInterpreter(program: filter.program)
        if filter.runsInKernel {
            let view = kernelView(sample, 1)
            return interpreter.run(packet: view.frame, ancillary: view.ancillary) != 0
        }
        return interpreter.run(packet: taggedFrame(sample, 1)) != 0
    }

    static let expressions = [
        "vlan", "vlan 5", "vlan 6", "vlan 5 and udp", "vlan and vlan 7", "vlan 5 or vlan 6",
        "not vlan", "udp", "vlan 6 and vlan 8 and udp", "vlan 5 and ip and udp port 9999", "vlan 7",
    ]

    /// libpcap's program for a live Ethernet socket (`tcpdump -ddd -i lo`, with the ancillary
    /// loads) run on the kernel's view of each frame, against ours where ours runs.
    @Test func agreesWithLibpcapsLiveProgram() throws {
        guard let tcpdump = CaptureTestData.tcpdump() else { return }
        guard geteuid() == 0 else {
            if LiveCaptureTests.kernelRequired { Issue.record("tcpdump -d -i lo needs root and SWIFTBPF_REQUIRE_KERNEL=1 is set") }
            print("skipped: tcpdump -d -i lo needs root")
            return
        }
        var compared = 0
        for expression in Self.expressions {
            let result = try Subprocess.run(tcpdump.path, ["-ddd", "-i", "lo", expression])
            #expect(result.status == 0, "tcpdump -ddd -i lo '\(expression)': \(result.errors)")
            guard result.status == 0 else { continue }
            let theirs = ClassicInterpreter(program: try ClassicProgram(ClassicTextFormat.decimal.parse(result.text)))
            let ours = try PacketFilter.compileForSocket(expression)
            #expect(ours.runsInKernel == !expression.contains("vlan"), "\(expression)")
            for (index, sample) in Self.samples.enumerated() {
                let view = Self.kernelView(sample, 1)
                let expected = theirs.run(packet: view.frame, ancillary: view.ancillary) != 0
                #expect(Self.keeps(ours, sample) == expected, "'\(expression)' on sample \(index): libpcap keeps it: \(expected)")
                compared += 1
            }
        }
        print("live vlan filters: \(compared) verdicts compared with libpcap's live programs")
    }

    /// What `tcpdump -i` kept of the seven samples sent over a veth pair, for each
    /// expression (run by hand with tcpdump 4.99.3 / libpcap 1.10.3 on Linux 6.18, 2026-11-26;
    /// the same sets come out of libpcap's live programs in the test above).
    static let keptByTcpdump: [String: [Int]] = [
        "vlan": [1, 2, 3, 4, 5, 6],
        "vlan 5": [1, 3, 4, 6],
        "vlan 6": [2, 5],
        "vlan 5 and udp": [1, 6],
        "vlan and vlan 7": [4],
        "vlan 5 or vlan 6": [1, 3, 4, 6],
        "not vlan": [0],
        "udp": [0, 1, 2, 6],
    ]

    /// Tagged and untagged frames written on one end of a veth pair, captured on the other
    /// through `SocketFilter` as `swiftbpf capture -i` does: the packets kept are tcpdump's,
    /// byte for byte with their tags put back.
    @Test func vethCaptureKeepsWhatTcpdumpKeeps() throws {
        guard LiveCaptureTests.available() else { return }
        guard let (inside, outside) = makeVethPair("sbv") else { return }
        defer { _ = ip(["link", "del", inside]) }
        for (expression, kept) in Self.keptByTcpdump.sorted(by: { $0.key < $1.key }) {
            let filter = try PacketFilter.compileForSocket(expression)
            let configuration = LiveCapture.Configuration(
                interface: inside, filter: filter.program, filterInUserSpace: !filter.runsInKernel, promiscuous: true,
                blockSize: 1 << 16, blockCount: 4, blockTimeout: 10)
            try LiveCaptureTests.withCapture(configuration) { capture in
                let writer = socket(AF_PACKET, Int32(SOCK_RAW.rawValue), 0)
                #expect(writer >= 0)
                defer { close(writer) }
                let index = if_nametoindex(outside)
                for (number, sample) in Self.samples.enumerated() { sendFrame(writer, index, Self.taggedFrame(sample, number)) }
                // Then one more kept frame: anything kept wrongly arrives before it.
                let marker = Self.taggedFrame(Self.samples[kept[0]], 100)
                sendFrame(writer, index, marker)
                let expected = kept.map { Self.taggedFrame(Self.samples[$0], $0) } + [marker]
                let packets = LiveCaptureTests.collect(capture, expected.count)
                #expect(packets.map(\.data) == expected, "'\(expression)': got \(packets.map { String(decoding: $0.data.suffix(7), as: UTF8.self) })")
            }
        }
    }
}
#endif
