#if os(Linux)
import ClassicBPF
import Foundation
import Glibc
import PacketCapture
import PacketFilter
import TestPeers
import Testing

/// Live filters in the real kernel against tcpdump on the same interface of a veth pair:
/// tagged and untagged frames written on one end arrive on the other with the outer tag
/// taken out by the kernel (`[vlanp]` set), and are seen leaving the first with their tags
/// still in the frame. On each end, for each expression, the capture keeps the frames
/// tcpdump keeps, byte for byte with the tag put back; the kernel reports our program as the
/// socket's filter (SO_GET_FILTER) and counts as received exactly the frames delivered, so
/// the filtering happened there.
///
/// libpcap filters the ring blocks in use when it sets its filter (at least one) in user
/// space, where its interpreter has no packet type: `inbound` then drops what arrives first.
/// So the frames go twice, as a warm-up (numbered from 100) that fills that block, then
/// after a pause the round compared.
@Suite(.serialized) struct LiveVLANFilterTests {
    struct Sample {
        var tags: [(protocolID: UInt16, tci: UInt16)]
        var port: UInt16 = 9999
        var ipProtocol: UInt8 = 17
    }

    static let samples: [Sample] = [
        Sample(tags: []),                                      // untagged UDP
        Sample(tags: [], port: 9),                             // untagged UDP to port 9
        Sample(tags: [(0x8100, 5)]),                           // VLAN 5, UDP
        Sample(tags: [(0x8100, 5)], port: 9),                  // VLAN 5, UDP to port 9
        Sample(tags: [(0x8100, 6)], port: 9),                  // VLAN 6, UDP to port 9
        Sample(tags: [(0x8100, 5)], ipProtocol: 6),            // VLAN 5, protocol TCP
        Sample(tags: [(0x88a8, 5), (0x8100, 7)], port: 9),     // QinQ 5 then 7, UDP to port 9
        Sample(tags: [(0x8100, 6), (0x8100, 8)]),              // VLAN 6 then 8, UDP
        Sample(tags: [(0x8100, 0x2005)]),                      // VLAN 5 with priority 1
    ]

    /// The frame of `sample` as sent, tags in place, numbered `number` in its IPv4 id.
    static func taggedFrame(_ sample: Sample, _ number: Int) -> [UInt8] {
        var bytes = frame(port: sample.port, number)
        bytes[23] = sample.ipProtocol
        return tagged(bytes, sample.tags)
    }

    /// The round of frames compared.
    static let compared = Set(samples.enumerated().map { taggedFrame($0.element, $0.offset) })

    static let expressions = [
        "vlan", "vlan 5", "vlan 5 and udp port 9", "not vlan", "inbound", "outbound and vlan 6",
        "ip and vlan or udp port 9", "vlan and vlan 7",
    ]

    @Test func vethCaptureKeepsWhatTcpdumpKeeps() throws {
        guard LiveCaptureTests.available() else { return }
        guard let tcpdump = CaptureTestData.tcpdump() else { return }
        guard let (inside, outside) = makeVethPair("sbv") else { return }
        defer { _ = ip(["link", "del", inside]) }
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("swiftbpf-vlan-\(getpid()).pcap").path
        defer { try? FileManager.default.removeItem(atPath: file) }
        var kept = 0
        for expression in Self.expressions {
            let program = try PacketFilter.compileForSocket(expression)
            for interface in [inside, outside] {
                let configuration = LiveCapture.Configuration(
                    interface: interface, filter: program, promiscuous: true, blockSize: 1 << 16, blockCount: 4, blockTimeout: 10)
                try LiveCaptureTests.withCapture(configuration) { capture in
                    #expect(try capture.kernelFilter() == program, "'\(expression)' on \(interface): the socket's filter")
                    let theirs = try Self.tcpdumpKeeps(tcpdump, interface, expression, file) {
                        let writer = socket(AF_PACKET, Int32(SOCK_RAW.rawValue), 0)
                        #expect(writer >= 0)
                        defer { close(writer) }
                        let index = if_nametoindex(outside)
                        // Pauses (guards, not measurements): tcpdump settles after it says it listens,
                        // and its block with the warm-up retires.
                        usleep(300_000)
                        for (number, sample) in Self.samples.enumerated() { sendFrame(writer, index, Self.taggedFrame(sample, 100 + number)) }
                        usleep(300_000)
                        for (number, sample) in Self.samples.enumerated() { sendFrame(writer, index, Self.taggedFrame(sample, number)) }
                    }.filter(Self.compared.contains)
                    // Both rounds of ours: the watchdog ends the wait if ours kept fewer.
                    let delivered = LiveCaptureTests.collect(capture, 2 * theirs.count, patience: 1).map(\.data)
                    let ours = delivered.filter(Self.compared.contains)
                    #expect(ours == theirs, "'\(expression)' on \(interface): ours \(ours.map { $0.suffix(1) }), tcpdump's \(theirs.map { $0.suffix(1) })")
                    // What the kernel's filter accepted, all of it delivered: nothing was filtered here.
                    #expect(capture.statistics().received == UInt64(delivered.count), "'\(expression)' on \(interface): the kernel's filter accepted \(capture.statistics().received)")
                    kept += theirs.count
                }
            }
        }
        // Neither all nor none: the expressions tell the frames apart.
        #expect(kept > 0 && kept < Self.expressions.count * 2 * Self.samples.count)
        print("live vlan filters in the kernel: \(kept) frames kept as tcpdump kept them, \(Self.expressions.count * 2) captures")
    }

    /// The frames tcpdump captures on `interface` with `expression` while `send` runs: it is
    /// started, `send` called once it listens, and it is stopped (SIGINT) when the frames had
    /// time to arrive; then its file is read.
    static func tcpdumpKeeps(_ tcpdump: URL, _ interface: String, _ expression: String, _ file: String,
                             _ send: () -> Void) throws -> [[UInt8]] {
        let process = try Subprocess.Background(tcpdump.path, ["-i", interface, "--immediate-mode", "-U", "-w", file, "--", expression])
        guard process.waitForErrors(containing: "listening on", seconds: 10) else {
            Issue.record("tcpdump -i \(interface) '\(expression)' did not start: \(process.errors)")
            return []
        }
        send()
        // A veth delivers as it sends; this only leaves tcpdump time to write (not a measurement).
        usleep(300_000)
        let status = process.interruptAndWait()
        #expect(status == 0, "tcpdump -i \(interface) '\(expression)' exited \(status): \(process.errors)")
        var reader = try CaptureFileReader(path: file)
        return reader.readAll().map(\.data)
    }
}
#endif
