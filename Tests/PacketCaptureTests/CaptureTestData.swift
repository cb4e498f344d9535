import Foundation
import Testing

/// Where the capture tests find their peers: the shared capture corpus (../shared from the
/// repo root, or $SWIFTBPF_SHARED) and tcpdump on the PATH.
enum CaptureTestData {
    static let repositoryRoot = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    static var shared: URL {
        if let path = ProcessInfo.processInfo.environment["SWIFTBPF_SHARED"] { return URL(fileURLWithPath: path) }
        return repositoryRoot.deletingLastPathComponent().appendingPathComponent("shared")
    }

    /// tcpdump's test captures, or nil when the shared data is absent.
    static var corpus: URL? {
        let folder = shared.appendingPathComponent("pcaps/tcpdump")
        return FileManager.default.fileExists(atPath: folder.path) ? folder : nil
    }

    /// Shared data may be absent on a developer's machine, never in CI.
    static var sharedDataRequired: Bool {
        let environment = ProcessInfo.processInfo.environment
        return environment["CI"] != nil || environment["SWIFTBPF_REQUIRE_PEERS"] == "1"
    }

    static var peersRequired: Bool { ProcessInfo.processInfo.environment["SWIFTBPF_REQUIRE_PEERS"] == "1" }

    /// Every .pcap and .pcapng file of the corpus, sorted by name; records an issue instead
    /// of returning nothing when the corpus is required.
    static func corpusFiles() -> [URL] {
        guard let corpus else {
            if sharedDataRequired {
                Issue.record("the capture corpus is missing: \(shared.path)/pcaps/tcpdump")
            } else {
                print("skipped: no capture corpus at \(shared.path)/pcaps/tcpdump")
            }
            return []
        }
        let names = (try? FileManager.default.contentsOfDirectory(atPath: corpus.path)) ?? []
        return names.filter { $0.hasSuffix(".pcap") || $0.hasSuffix(".pcapng") }.sorted().map { corpus.appendingPathComponent($0) }
    }

    static func bytes(_ url: URL) throws -> [UInt8] { [UInt8](try Data(contentsOf: url)) }

    /// The tcpdump executable, or nil (with an issue when peers are required).
    static func tcpdump() -> URL? {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? ""
        let folders = path.split(separator: ":").map(String.init) + ["/usr/sbin", "/usr/bin", "/sbin", "/usr/local/sbin"]
        for folder in folders {
            let candidate = URL(fileURLWithPath: folder).appendingPathComponent("tcpdump")
            if FileManager.default.isExecutableFile(atPath: candidate.path) { return candidate }
        }
        if peersRequired {
            Issue.record("tcpdump is not installed and SWIFTBPF_REQUIRE_PEERS=1")
        } else {
            print("skipped: tcpdump is not installed (apt-get install tcpdump)")
        }
        return nil
    }
}
