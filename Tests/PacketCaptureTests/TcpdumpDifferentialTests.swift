import Foundation
import PacketCapture
import TestPeers
import Testing

/// Differential check against libpcap: `tcpdump -r FILE -w -` copies every packet libpcap
/// reads — timestamp, captured and original length, bytes — into a clean pcap, with no
/// dissector involved. Each packet must match ours. The copy keeps the file's precision
/// (microsecond pcaps stay microsecond, so out-of-range microsecond fields pass through
/// unchanged; nanosecond pcaps and pcapng become nanosecond pcaps).
///
/// Where we differ on purpose:
/// - libpcap cuts a record longer than the file's snapshot length down to it (pcap); we keep
///   all the bytes the file holds and warn. The comparison expects libpcap's cut copy.
/// - Files listed in `expectedDifferences`, each with its reason.
/// - Not met in this corpus, checked by the pcapng unit tests instead: libpcap stops at a
///   pcapng interface whose link type or snapshot length differs from the first one's, at
///   a section in the other byte order, and at a record longer than the snapshot length;
///   we read all three (the last with a warning).
struct TcpdumpDifferentialTests {
    static let expectedDifferences: [String: String] = [
        "time_2106_overflow.pcapng": "timestamp 2^32 s (2106-02-07): tcpdump's pcap copy has 32-bit seconds, so it says 0",
        "time_2107.pcapng": "timestamp in 2107: tcpdump's pcap copy has 32-bit seconds and wraps it to 1970",
    ]

    struct Outcome {
        var packets: [Packet]
        var message: String
    }

    /// libpcap's reading of `file`, or nil when it refused the file.
    static func libpcap(_ tcpdump: URL, _ file: URL, nanoseconds: Bool) throws -> Outcome? {
        let result = try Subprocess.run(tcpdump.path, ["-r", file.path, "--time-stamp-precision=\(nanoseconds ? "nano" : "micro")", "-w", "-"])
        let bytes = [UInt8](result.output)
        let message = result.errors
        guard !bytes.isEmpty else { return nil }
        var reader = try CaptureReader(bytes)
        let packets = reader.readAll()
        #expect(reader.error == nil, "tcpdump's copy of \(file.lastPathComponent): \(String(describing: reader.error))")
        return Outcome(packets: packets, message: message.split(separator: "\n").filter { !$0.hasPrefix("reading from") }.joined(separator: "; "))
    }

    /// The snapshot length libpcap cuts records to: the header's, or its maximum for the
    /// link type when the header's is 0 or above INT_MAX.
    static func libpcapSnapshotLength(_ reader: CaptureReader) -> Int? {
        guard let header = reader.pcapHeader else { return nil }
        let snapshot = Int(header.snapshotLength)
        return snapshot == 0 || snapshot > Int(Int32.max) ? header.linkType.maximumCapturedLength : snapshot
    }

    @Test func packetsMatchLibpcap() throws {
        let files = CaptureTestData.corpusFiles()
        guard !files.isEmpty, let tcpdump = CaptureTestData.tcpdump() else { return }
        var same = 0, cut: [String] = [], differ: [String] = []
        for file in files {
            let name = file.lastPathComponent
            var reader: CaptureReader? = try? CaptureReader(try CaptureTestData.bytes(file))
            let ours = reader?.readAll()
            let theirs = try Self.libpcap(tcpdump, file, nanoseconds: reader?.pcapHeader?.timestampResolution != .microseconds)
            var problems: [String] = []
            var wasCut = false
            switch (ours, theirs) {
            case (nil, nil):
                break
            case (nil, let theirs?):
                problems.append("we refuse the file, libpcap reads \(theirs.packets.count) packets")
            case (let ours?, nil):
                problems.append("libpcap refuses the file, we read \(ours.count) packets")
            case (let ours?, let theirs?):
                if ours.count != theirs.packets.count {
                    problems.append("\(ours.count) packets (\(reader?.error.map { "\($0)" } ?? "complete")), libpcap \(theirs.packets.count) (\(theirs.message))")
                }
                let snapshot = reader.flatMap(Self.libpcapSnapshotLength)
                for (index, (mine, libpcap)) in zip(ours, theirs.packets).enumerated() {
                    var expected = mine
                    if let snapshot, expected.data.count > snapshot {
                        expected.data = Array(expected.data.prefix(snapshot))
                        wasCut = true
                    }
                    expected.interfaceIndex = 0
                    expected.options = []
                    var actual = libpcap
                    actual.linkType = expected.linkType  // tcpdump writes DLT numbers back as LINKTYPE
                    if actual != expected {
                        problems.append("packet \(index + 1): ours \(summary(expected)), libpcap \(summary(actual))")
                        break
                    }
                }
            }
            if problems.isEmpty {
                same += 1
                if wasCut { cut.append(name) }
            } else if let reason = Self.expectedDifferences[name] {
                differ.append("\(name): \(reason)")
            } else {
                Issue.record("\(name): \(problems.joined(separator: "; "))")
            }
        }
        print("tcpdump comparison: \(same) files agree packet for packet (\(cut.count) after libpcap's cut to the snapshot length: \(cut.joined(separator: ", "))); \(differ.count) differ on purpose")
        for line in differ { print("  differs on purpose: \(line)") }
        for name in Self.expectedDifferences.keys where !differ.contains(where: { $0.hasPrefix(name + ":") }) {
            Issue.record("\(name) is listed as differing from libpcap but no longer does")
        }
    }
}

private func summary(_ packet: Packet) -> String {
    "ts \(packet.timestamp) caplen \(packet.capturedLength) len \(packet.originalLength) link \(packet.linkType.rawValue)"
}
