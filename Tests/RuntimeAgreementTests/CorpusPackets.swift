import Foundation
import PacketCapture
import Testing

/// The Ethernet packets of the shared tcpdump captures (../shared/pcaps/tcpdump from the
/// repo root, or $SWIFTBPF_SHARED/pcaps/tcpdump) that the kernel's BPF_PROG_TEST_RUN takes
/// as they are, in file order, and how many were left out and why.
struct CorpusPackets: Sendable {
    struct Packet: Sendable {
        var file: String
        /// The packet's number in its file, from 0, counting every link type.
        var index: Int
        var data: [UInt8]

        var location: String { "\(file)#\(index)" }
    }

    /// `count` frames of `size` bytes from a linear congruential generator seeded with
    /// `seed`: the same every run, for fixtures that need no real traffic.
    static func generated(count: Int = 64, size: Int = 64, seed: UInt32) -> [Packet] {
        var state = seed
        return (0..<count).map { index in
            let data = (0..<size).map { _ -> UInt8 in
                state = state &* 1_664_525 &+ 1_013_904_223
                return UInt8(truncatingIfNeeded: state >> 24)
            }
            return Packet(file: "generated", index: index, data: data)
        }
    }

    var packets: [Packet] = []
    var files = 0
    /// Reason → packets (or files) left out.
    var excluded: [String: Int] = [:]

    /// Shorter frames the kernel refuses (`bpf_test_init` wants an Ethernet header).
    static let minimumLength = 14
    /// Longer frames XDP's test run splits into fragments beyond the linear part the
    /// fixtures read (4096-byte page − 256 headroom − 320 `skb_shared_info`).
    static let maximumLength = 3520

    static let repositoryRoot = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    static var folder: URL {
        let shared = ProcessInfo.processInfo.environment["SWIFTBPF_SHARED"].map { URL(fileURLWithPath: $0) }
            ?? repositoryRoot.deletingLastPathComponent().appendingPathComponent("shared")
        return shared.appendingPathComponent("pcaps/tcpdump")
    }

    /// The corpus, read once per test process; nil (after a note, or an issue when CI or
    /// SWIFTBPF_REQUIRE_PEERS says the shared data must be there) when it is absent.
    static func load() -> CorpusPackets? {
        guard let corpus = loaded else {
            let environment = ProcessInfo.processInfo.environment
            if environment["CI"] != nil || environment["SWIFTBPF_REQUIRE_PEERS"] == "1" {
                Issue.record("the capture corpus is missing: \(folder.path)")
            } else {
                print("skipped: no capture corpus at \(folder.path)")
            }
            return nil
        }
        return corpus
    }

    private static let loaded: CorpusPackets? = {
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: folder.path) else { return nil }
        var corpus = CorpusPackets()
        for name in names.sorted() where name.hasSuffix(".pcap") || name.hasSuffix(".pcapng") {
            guard let bytes = try? Data(contentsOf: folder.appendingPathComponent(name)),
                  var reader = try? CaptureReader([UInt8](bytes)) else {
                corpus.excluded["capture files that do not open", default: 0] += 1
                continue
            }
            corpus.files += 1
            var index = 0
            while let packet = reader.next() {
                defer { index += 1 }
                guard packet.linkType == .ethernet else { continue }
                if packet.data.count < minimumLength {
                    corpus.excluded["Ethernet frames under \(minimumLength) bytes", default: 0] += 1
                } else if packet.data.count > maximumLength {
                    corpus.excluded["Ethernet frames over \(maximumLength) bytes", default: 0] += 1
                } else {
                    corpus.packets.append(Packet(file: name, index: index, data: packet.data))
                }
            }
        }
        return corpus
    }()

    /// "12 Ethernet frames under 14 bytes, ..." for the test's report.
    var exclusionSummary: String {
        excluded.isEmpty ? "none left out"
            : excluded.sorted { $0.key < $1.key }.map { "\($0.value) \($0.key)" }.joined(separator: ", ")
    }
}
