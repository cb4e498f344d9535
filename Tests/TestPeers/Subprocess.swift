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

// glibc has these, but Swift's Glibc module leaves them out (they need _GNU_SOURCE). pipe2
// makes the pipes close-on-exec atomically, so a tool another test spawns at the same moment
// cannot inherit them and hold our reads open.
@_silgen_name("pipe2") private func systemPipe2(_ fds: UnsafeMutablePointer<Int32>, _ flags: Int32) -> Int32
@_silgen_name("posix_spawn_file_actions_addchdir_np")
private func systemAddChdir(_ actions: UnsafeMutablePointer<posix_spawn_file_actions_t>, _ path: UnsafePointer<CChar>) -> Int32
