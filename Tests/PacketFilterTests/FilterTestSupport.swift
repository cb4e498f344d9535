import BPFInstructions
import ClassicBPF
import Foundation
import PacketCapture
import PacketFilter
import TestPeers
import Testing

/// Peers and data for the filter tests: tcpdump (libpcap's compiler, the reference) and the
/// shared capture corpus, read once.
enum FilterTestSupport {
    static var peersRequired: Bool { ProcessInfo.processInfo.environment["SWIFTBPF_REQUIRE_PEERS"] == "1" }
    static var dataRequired: Bool {
        peersRequired || ProcessInfo.processInfo.environment["CI"] != nil
    }

    static let repositoryRoot = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    static var shared: URL {
        if let path = ProcessInfo.processInfo.environment["SWIFTBPF_SHARED"] { return URL(fileURLWithPath: path) }
        return repositoryRoot.deletingLastPathComponent().appendingPathComponent("shared")
    }

    static let tcpdumpPath: String? = {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? ""
        for folder in path.split(separator: ":").map(String.init) + ["/usr/sbin", "/usr/bin", "/sbin"] {
            let candidate = folder + "/tcpdump"
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        return nil
    }()

    /// tcpdump, or nil after saying why (an issue when peers are required).
    static func tcpdump() -> String? {
        if let tcpdumpPath { return tcpdumpPath }
        if peersRequired {
            Issue.record("tcpdump is not installed and SWIFTBPF_REQUIRE_PEERS=1")
        } else {
            print("skipped: tcpdump is not installed (apt-get install tcpdump)")
        }
        return nil
    }

    struct Run {
        var status: Int32
        var output: Data
        var errors: String
    }

    static func run(_ executable: String, _ arguments: [String]) throws -> Run {
        let result = try Subprocess.run(executable, arguments)
        return Run(status: result.status, output: result.output, errors: result.errors)
    }

    enum LibpcapResult {
        case program([RawClassicInstruction])
        /// libpcap refuses, with its message ("expression rejects all packets" among them).
        case refused(String)
    }

    /// libpcap's optimized program for `expression` (`tcpdump -ddd -y DLT`).
    static func libpcap(_ tcpdump: String, _ expression: String, _ linkType: FilterLinkType, optimized: Bool = true) -> LibpcapResult {
        let arguments = ["-ddd", "-y", linkType.dataLinkName] + (optimized ? [] : ["-O"]) + ["--", expression]
        guard let run = try? run(tcpdump, arguments) else {
            return .refused("tcpdump did not run")
        }
        guard run.status == 0 else {
            return .refused(run.errors.split(separator: "\n").last.map(String.init) ?? "")
        }
        guard let raw = try? ClassicTextFormat.decimal.parse(String(decoding: run.output, as: UTF8.self)) else {
            return .refused("unreadable -ddd output")
        }
        return .program(raw)
    }

    struct CaptureFile: Sendable {
        var name: String
        var linkType: FilterLinkType
        /// The byte order the file was written in.
        var byteOrder: ByteOrder
        var packets: [(data: [UInt8], wireLength: UInt32)]
    }

    /// The corpus, or nil after recording an issue (when the data is required) or saying
    /// why the test is skipped.
    static func requireCorpus() -> (files: [CaptureFile], skipped: Int)? {
        if let corpus { return corpus }
        if dataRequired {
            Issue.record("the capture corpus is missing at \(shared.path)")
        } else {
            print("skipped: no capture corpus at \(shared.path)")
        }
        return nil
    }

    /// Capture files of the corpus whose link type the compiler supports, with the count
    /// of those skipped; nil when the corpus is absent.
    static let corpus: (files: [CaptureFile], skipped: Int)? = {
        let folder = shared.appendingPathComponent("pcaps/tcpdump")
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: folder.path) else { return nil }
        var files: [CaptureFile] = []
        var skipped = 0
        for name in names.sorted() {
            guard let data = FileManager.default.contents(atPath: folder.appendingPathComponent(name).path),
                  var reader = try? CaptureReader([UInt8](data)) else {
                skipped += 1
                continue
            }
            var packets: [(data: [UInt8], wireLength: UInt32)] = []
            var linkType: FilterLinkType?
            var mixed = false
            while let packet = reader.next() {
                guard let type = FilterLinkType(linkTypeValue: packet.linkType.rawValue), type.linkTypeValue == packet.linkType.rawValue else {
                    mixed = true
                    break
                }
                if let linkType, linkType != type { mixed = true; break }
                linkType = type
                packets.append((packet.data, UInt32(truncatingIfNeeded: packet.originalLength)))
            }
            guard !mixed, let linkType, !packets.isEmpty else {
                skipped += 1
                continue
            }
            let byteOrder = reader.pcapHeader?.byteOrder ?? reader.sections.first?.byteOrder ?? .little
            files.append(CaptureFile(name: name, linkType: linkType, byteOrder: byteOrder, packets: packets))
        }
        return (files, skipped)
    }()
}
