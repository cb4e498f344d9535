#if os(Linux)
import Glibc
import TestPeers

/// A child process started with posix_spawn and reaped with waitpid: no Foundation `Process`,
/// whose termination and pipe handling need Dispatch threads — the threads that kernel tests
/// waiting for the process-wide lock may be holding, which would deadlock a test holding it.
struct ChildProcess {
    struct Failure: Error, CustomStringConvertible { var description: String }

    let pid: pid_t
    /// The read end of the child's standard output, when captured.
    let output: Int32?
    /// The write end of the child's standard input, when given one.
    let input: Int32?

    /// Starts `path` with `arguments`; standard output and error go to /dev/null, or with
    /// `captureOutput` both into one pipe; standard input comes from a pipe with `pipeInput`.
    init(_ path: String, _ arguments: [String], captureOutput: Bool = false, pipeInput: Bool = false) throws {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        var outputPipe: [Int32] = [-1, -1], inputPipe: [Int32] = [-1, -1]
        if captureOutput {
            guard Self.makePipe(&outputPipe) else { throw Failure(description: "pipe: \(errno)") }
            posix_spawn_file_actions_adddup2(&actions, outputPipe[1], 1)
            posix_spawn_file_actions_adddup2(&actions, outputPipe[1], 2)
        } else {
            posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0)
            posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0)
        }
        if pipeInput {
            guard Self.makePipe(&inputPipe) else { throw Failure(description: "pipe: \(errno)") }
            posix_spawn_file_actions_adddup2(&actions, inputPipe[0], 0)
        }
        let argv = ([path] + arguments).map { strdup($0) } + [nil]
        defer { for pointer in argv { free(pointer) } }
        var child: pid_t = 0
        let result = posix_spawn(&child, path, &actions, nil, argv, environ)
        if captureOutput { close(outputPipe[1]) }
        if pipeInput { close(inputPipe[0]) }
        guard result == 0 else { throw Failure(description: "posix_spawn \(path): \(String(cString: strerror(result)))") }
        pid = child
        output = captureOutput ? outputPipe[0] : nil
        input = pipeInput ? inputPipe[1] : nil
    }

    /// A pipe whose ends other children do not inherit (close-on-exec; dup2 clears it for
    /// the child's own standard streams).
    private static func makePipe(_ ends: inout [Int32]) -> Bool {
        guard pipe(&ends) == 0 else { return false }
        for end in ends { _ = fcntl(end, F_SETFD, FD_CLOEXEC) }
        return true
    }

    /// Writes `text` to the child's standard input and closes it.
    func send(_ text: String) {
        guard let input else { return }
        let bytes = Array(text.utf8)
        _ = bytes.withUnsafeBytes { write(input, $0.baseAddress, $0.count) }
        close(input)
    }

    /// Reads the child's output until a newline has come (or it ends).
    func readLine() -> String {
        guard let output else { return "" }
        var bytes: [UInt8] = []
        var byte: UInt8 = 0
        while read(output, &byte, 1) == 1 {
            bytes.append(byte)
            if byte == UInt8(ascii: "\n") { break }
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Reads the child's output to its end.
    func readAll() -> String {
        guard let output else { return "" }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        while true {
            let count = read(output, &chunk, chunk.count)
            if count <= 0 { break }
            bytes += chunk[0..<count]
        }
        close(output)
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Runs `path` to its end: its exit status (or 128 + the signal) and its standard output
    /// followed by its standard error.
    static func run(_ path: String, _ arguments: [String]) throws -> (status: Int32, output: String) {
        let result = try Subprocess.run(path, arguments)
        return (result.status, result.text + result.errors)
    }

    /// Waits for the child; its wait status.
    @discardableResult
    func wait() -> Int32 {
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        return status
    }
}
#endif
