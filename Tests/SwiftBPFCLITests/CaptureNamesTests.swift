import Foundation
import TestPeers
import Testing

/// `capture` without -n against `tcpdump` without -n over the whole corpus: host names by
/// reverse lookup, ports by service, Ethernet addresses with their maker, on this machine's
/// hosts, services and ethers files for both.
@Suite struct CaptureNamesTests {
    /// Every line whose -n form is tcpdump -n's prints as tcpdump's without -n, with -e (so
    /// that the Ethernet addresses are named too).
    @Test func namesAsTcpdump() throws {
        let options = ["-e"]
        guard let (corpus, tcpdump) = CaptureCLITests.peers() else { return }
        var compared = 0, named = 0
        for name in try FileManager.default.contentsOfDirectory(atPath: corpus.path).sorted() {
            let file = corpus.appendingPathComponent(name).path
            let theirNumbers = CaptureVerboseTests.packets(try Subprocess.run(tcpdump, ["-n", "-r", file] + options).text)
            let ourNumbers = CaptureVerboseTests.packets(try CLITests.swiftbpf(["capture", "-n", "-r", file] + options).stdout)
            guard theirNumbers.count == ourNumbers.count, theirNumbers != [] else { continue }
            let theirs = CaptureVerboseTests.packets(try Subprocess.run(tcpdump, ["-r", file] + options).text)
            let ours = CaptureVerboseTests.packets(try CLITests.swiftbpf(["capture", "-r", file] + options).stdout)
            guard theirs.count == theirNumbers.count else { continue }
            #expect(ours.count == theirs.count, "\(name): \(ours.count) packets with names, tcpdump \(theirs.count)")
            guard ours.count == theirs.count else { continue }
            for index in theirs.indices where theirNumbers[index] == ourNumbers[index] {
                compared += 1
                if theirs[index] != theirNumbers[index] { named += 1 }
                #expect(ours[index] == theirs[index], "\(name) packet \(index + 1)")
            }
        }
        print("capture \(options.joined(separator: " ")) without -n: \(compared) packets compared with tcpdump's, \(named) of them with names")
        #expect(named > 1000, "only \(named) packets with names compared")
    }
}
