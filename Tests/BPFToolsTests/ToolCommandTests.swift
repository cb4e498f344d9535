#if os(Linux)
import Foundation
import Glibc
import Synchronization
import TestPeers
import Testing

extension BPFToolsKernelTests {
    /// The tools as users run them: `swiftbpf <tool>` in a process of its own, stopped with
    /// Ctrl-C (SIGINT), and run without privilege.
    @Suite struct ToolCommandTests {
        /// The executable is built next to the test bundle.
        static let executable: String = {
            var directory = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().deletingLastPathComponent()
            while directory.path != "/" && !FileManager.default.fileExists(atPath: directory.appendingPathComponent("swiftbpf").path) {
                directory.deleteLastPathComponent()
            }
            return directory.appendingPathComponent("swiftbpf").path
        }()

        @Test func interruptedToolPrintsWhatItSawAndItsSummary() throws {
            try ToolTests.run {
                let process = try ChildProcess("/bin/sh", ["-c", "exec \"$0\" opensnoop -p \(getpid()) 2>&1", Self.executable],
                                               captureOutput: true)
                // Should the tool hang, end it so that the test fails instead of waiting forever.
                let watchdog = Watchdog(pid: process.pid, seconds: 30)
                defer { watchdog.cancel() }
                // The header comes once the programs are attached.
                let header = process.readLine()
                #expect(header == "PID    COMM               FD ERR PATH\n", "\(header)")
                let path = "/tmp/swiftbpf-opensnoop-cli-\(UUID().uuidString)"
                _ = open(path, O_RDONLY)
                kill(process.pid, SIGINT)
                let text = process.readAll()
                let status = process.wait()
                watchdog.cancel()
                #expect(status == 0, "Ctrl-C did not stop the tool cleanly (wait status \(status)): \(text)")
                let line = try #require(text.split(separator: "\n").first { $0.hasSuffix(path) }, "\(text)")
                #expect(line.hasPrefix(String(getpid()) + " "))
                #expect(line.contains("  -1   2 "), "an ENOENT open shows FD -1, ERR 2: \(line)")
                let summary = text.split(separator: "\n").last.map(String.init) ?? ""
                #expect(summary.hasPrefix("opensnoop: ") && summary.hasSuffix(", none lost"), "\(summary)")
            }
        }

        @Test func unprivilegedRunSaysWhichPrivilegeIsMissing() throws {
            guard geteuid() == 0 else {
                print("skipped: needs root to run the tool as another user")
                return
            }
            guard FileManager.default.isExecutableFile(atPath: "/usr/bin/setpriv") else {
                ToolTests.peerMissing("setpriv (util-linux) runs the tool as another user")
                return
            }
            let result = try ChildProcess.run("/usr/bin/setpriv", ["--reuid=65534", "--regid=65534", "--clear-groups", "--inh-caps=-all",
                                                                   Self.executable, "execsnoop", "-d", "1"])
            #expect(result.status != 0)
            #expect(result.output.contains("execsnoop: the kernel refused"), "\(result.output)")
            #expect(result.output.contains("CAP_BPF"), "\(result.output)")
            #expect(result.output.contains("as user 65534"), "\(result.output)")
            #expect(!result.output.contains("PCOMM"), "no header before the error")
        }

        @Test func profileJSONIsOneStackPerLine() throws {
            let result = try Subprocess.run(Self.executable, ["profile", "-d", "1", "--json"])
            #expect(result.status == 0, "\(result.errors)")
            let lines = result.text.split(separator: "\n")
            #expect(!lines.isEmpty, "a second at 49 Hz on every CPU samples something")
            for line in lines {
                let object = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]
                #expect((object?["frames"] as? [String])?.isEmpty == false && (object?["count"] as? Int ?? 0) > 0, "\(line)")
            }
        }
    }
}
/// Kills a child with SIGKILL if it is still running after a while, so that a hanging
/// tool fails its test rather than stopping the test run; cancelled once the child is reaped
/// (so that a reused pid is never hit).
final class Watchdog: Sendable {
    private let armed = Mutex(true)

    init(pid: Int32, seconds: Int) {
        DispatchQueue.global().asyncAfter(deadline: .now() + .seconds(seconds)) { [self] in
            armed.withLock { if $0 { kill(pid, SIGKILL) } }
        }
    }

    func cancel() { armed.withLock { $0 = false } }
}
#endif
