import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Runs the peer tools the tests compare against (tcpdump, bpftool, llvm-objdump, the
/// toolchain clang, the swiftbpf binary) and captures what they print.
///
/// posix_spawn, then one poll() loop in the calling thread that feeds standard input and
/// drains both output pipes, then waitpid: no Dispatch queue and no Foundation `Process`,
/// whose helper threads tests blocked on `KernelTestLock` could starve on a 2-core machine,
/// and no pipe can fill up and stall the tool.
public enum Subprocess {
    public struct Result: Sendable {
        public var status: Int32
        public var output: Data
        public var errors: String
        public var text: String { String(decoding: output, as: UTF8.self) }
    }

    /// A tool that exited non-zero: the command and what it printed on standard error.
    public struct Failure: Error, CustomStringConvertible {
        public var description: String
        public init(_ description: String) { self.description = description }
    }

    /// The exit status, or 128 + the signal that ended the tool.
    public static func run(_ executable: String, _ arguments: [String], input: Data? = nil,
                           directory: URL? = nil) throws -> Result {
        var pipes = [[Int32]](repeating: [-1, -1], count: 3)  // stdin, stdout, stderr
        for i in 0..<3 {
            guard systemPipe2(&pipes[i], O_CLOEXEC) == 0 else { throw Failure("pipe: \(String(cString: strerror(errno)))") }
        }
        defer { for fds in pipes { for fd in fds where fd >= 0 { close(fd) } } }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_adddup2(&actions, pipes[0][0], 0)
        posix_spawn_file_actions_adddup2(&actions, pipes[1][1], 1)
        posix_spawn_file_actions_adddup2(&actions, pipes[2][1], 2)
        if let directory { systemAddChdir(&actions, directory.path) }
        let argv = ([executable] + arguments).map { strdup($0) }
        defer { argv.forEach { free($0) } }
        var pid: pid_t = 0
        let spawned = posix_spawn(&pid, executable, &actions, nil, argv + [nil], environ)
        guard spawned == 0 else { throw Failure("\(executable): \(String(cString: strerror(spawned)))") }
        // The child's ends belong to the child now.
        for (i, end) in [(0, 0), (1, 1), (2, 1)] {
            close(pipes[i][end])
            pipes[i][end] = -1
        }
        let (output, errors) = exchange(input: input.map { [UInt8]($0) } ?? [], &pipes)
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        let code = status & 0x7f == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f)
        return Result(status: code, output: Data(output), errors: String(decoding: errors, as: UTF8.self))
    }

    /// Writes `input` to the child's standard input and reads its standard output and error
    /// until both end, whichever is ready first.
    private static func exchange(input: [UInt8], _ pipes: inout [[Int32]]) -> (output: [UInt8], errors: [UInt8]) {
        var collected: [[UInt8]] = [[], []]
        var written = 0
        if input.isEmpty {
            close(pipes[0][1])
            pipes[0][1] = -1
        } else {
            // A full pipe must not block the loop while the child waits for us to read.
            _ = fcntl(pipes[0][1], F_SETFL, fcntl(pipes[0][1], F_GETFL) | O_NONBLOCK)
        }
        var buffer = [UInt8](repeating: 0, count: 65_536)
        while pipes[1][0] >= 0 || pipes[2][0] >= 0 {
            var fds = [pollfd(fd: pipes[1][0], events: Int16(POLLIN), revents: 0),
                       pollfd(fd: pipes[2][0], events: Int16(POLLIN), revents: 0),
                       pollfd(fd: pipes[0][1], events: Int16(POLLOUT), revents: 0)]
            guard poll(&fds, 3, -1) >= 0 || errno == EINTR else { break }
            for (slot, pipe) in [(0, 1), (1, 2)] where fds[slot].revents != 0 {
                let n = buffer.withUnsafeMutableBytes { read(pipes[pipe][0], $0.baseAddress, $0.count) }
                if n > 0 {
                    collected[slot] += buffer[0..<n]
                } else if n == 0 || (errno != EINTR && errno != EAGAIN) {
                    close(pipes[pipe][0])
                    pipes[pipe][0] = -1
                }
            }
            if pipes[0][1] >= 0, fds[2].revents != 0 {
                let n = input[written...].withUnsafeBytes { write(pipes[0][1], $0.baseAddress, min($0.count, 65_536)) }
                if n > 0 { written += n }
                if written == input.count || (n < 0 && errno != EINTR && errno != EAGAIN) {
                    close(pipes[0][1])
                    pipes[0][1] = -1
                }
            }
        }
        return (collected[0], collected[1])
    }

    /// Standard output of a run that must succeed; otherwise throws with its standard error.
    @discardableResult
    public static func output(_ executable: String, _ arguments: [String], input: Data? = nil) throws -> Data {
        let result = try run(executable, arguments, input: input)
        guard result.status == 0 else {
            throw Failure("\(executable) \(arguments.joined(separator: " ")) exited \(result.status): \(result.errors)")
        }
        return result.output
    }
}

extension Subprocess {
    /// A tool left running while the test works (tcpdump capturing), with its standard
    /// error read as it comes; standard input and output are /dev/null. Ended by
    /// `interruptAndWait()`, or killed when released.
    public final class Background {
        public let pid: pid_t
        private var errorsFD: Int32
        private var ended = false
        /// What it printed on standard error so far.
        public private(set) var errors = ""

        public init(_ executable: String, _ arguments: [String]) throws {
            var pipe: [Int32] = [-1, -1]
            guard systemPipe2(&pipe, O_CLOEXEC) == 0 else { throw Failure("pipe: \(String(cString: strerror(errno)))") }
            var actions = posix_spawn_file_actions_t()
            posix_spawn_file_actions_init(&actions)
            defer { posix_spawn_file_actions_destroy(&actions) }
            posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
            posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0)
            posix_spawn_file_actions_adddup2(&actions, pipe[1], 2)
            // SIGINT must stop it, whatever the test runner ignores or blocks (both inherited).
            var attributes = posix_spawnattr_t()
            posix_spawnattr_init(&attributes)
            defer { posix_spawnattr_destroy(&attributes) }
            var signals = sigset_t()
            sigemptyset(&signals)
            posix_spawnattr_setsigmask(&attributes, &signals)
            sigaddset(&signals, SIGINT)
            posix_spawnattr_setsigdefault(&attributes, &signals)
            posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))
            let argv = ([executable] + arguments).map { strdup($0) }
            defer { argv.forEach { free($0) } }
            var pid: pid_t = 0
            let spawned = posix_spawn(&pid, executable, &actions, &attributes, argv + [nil], environ)
            close(pipe[1])
            guard spawned == 0 else {
                close(pipe[0])
                throw Failure("\(executable): \(String(cString: strerror(spawned)))")
            }
            self.pid = pid
            errorsFD = pipe[0]
        }

        /// Reads standard error until it holds `text`, it ends, or `seconds` pass (a guard
        /// against a tool that never says it, not a measurement); whether it holds `text`.
        public func waitForErrors(containing text: String, seconds: Int32) -> Bool {
            var buffer = [UInt8](repeating: 0, count: 4096)
            var waited: Int32 = 0
            while !errors.contains(text), errorsFD >= 0, waited < seconds * 10 {
                var fds = [pollfd(fd: errorsFD, events: Int16(POLLIN), revents: 0)]
                let ready = poll(&fds, 1, 100)
                if ready == 0 { waited += 1; continue }
                guard ready > 0 || errno == EINTR else { break }
                let n = buffer.withUnsafeMutableBytes { read(errorsFD, $0.baseAddress, $0.count) }
                if n > 0 {
                    errors += String(decoding: buffer[0..<n], as: UTF8.self)
                } else if n == 0 || errno != EINTR {
                    close(errorsFD)
                    errorsFD = -1
                }
            }
            return errors.contains(text)
        }

        /// Sends SIGINT, reads the rest of standard error and waits for the tool to end:
        /// its exit status, or 128 + the signal that ended it.
        @discardableResult
        public func interruptAndWait() -> Int32 {
            kill(pid, SIGINT)
            _ = waitForErrors(containing: "\u{0}", seconds: 10)  // to the end of its output
            return reap()
        }

        private func reap() -> Int32 {
            ended = true
            if errorsFD >= 0 {
                close(errorsFD)
                errorsFD = -1
            }
            var status: Int32 = 0
            while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
            return status & 0x7f == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f)
        }

        deinit {
            if !ended {
                kill(pid, SIGKILL)
                _ = reap()
            }
        }
    }
}

// glibc has these, but Swift's Glibc module leaves them out (they need _GNU_SOURCE). pipe2
// makes the pipes close-on-exec atomically, so a tool another test spawns at the same moment
// cannot inherit them and hold our reads open.
@_silgen_name("pipe2") private func systemPipe2(_ fds: UnsafeMutablePointer<Int32>, _ flags: Int32) -> Int32
@_silgen_name("posix_spawn_file_actions_addchdir_np")
private func systemAddChdir(_ actions: UnsafeMutablePointer<posix_spawn_file_actions_t>, _ path: UnsafePointer<CChar>) -> Int32
