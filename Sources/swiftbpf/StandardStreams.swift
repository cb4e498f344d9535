import Foundation
import Synchronization

/// Standard output and error written with write(2): a full disk or a closed pipe is an
/// error to report, where FileHandle.write traps, and a stop request (Ctrl-C) ends a write
/// blocked on a reader that stopped reading.
enum StandardStreams {
    /// Set when the user asked to stop: a write that cannot go on gives up.
    static let stopping = Atomic<Bool>(false)

    /// Writes all of `bytes` to standard output, or throws tcpdump's words for why not.
    static func write(_ bytes: [UInt8]) throws(CommandError) {
        var failure: Int32 = 0
        bytes.withUnsafeBytes { failure = writeAll($0, to: 1) }
        if failure != 0 { throw CommandError("Unable to write output: \(String(cString: strerror(failure)))") }
    }

    static func write(_ text: String) throws(CommandError) { try write(Array(text.utf8)) }

    /// What kind of file standard output and error are (st_mode's S_IFMT bits), asked once:
    /// it does not change while the program runs.
    static let kinds: [mode_t] = (Int32(0)...2).map { fd in
        var status = stat()
        return fstat(fd, &status) == 0 ? status.st_mode & S_IFMT : 0
    }

    /// Writes `bytes` to `fd`; 0, or the errno that stopped it. Where a write can block
    /// (anything but a regular file), it waits for room with poll(2), so that it can notice
    /// `stopping`; to a pipe it writes at most PIPE_BUF bytes at once, which fit whenever
    /// poll says there is room.
    @inline(never)
    static func writeAll(_ bytes: UnsafeRawBufferPointer, to fd: Int32) -> Int32 {
        let kind = kinds.indices.contains(Int(fd)) ? kinds[Int(fd)] : 0
        let chunk = kind == S_IFIFO ? Int(PIPE_BUF) : 1 << 20
        var offset = 0
        while offset < bytes.count {
            if kind != S_IFREG {
                var request = pollfd(fd: fd, events: Int16(POLLOUT), revents: 0)
                let ready = poll(&request, 1, 100)
                if ready < 0 && errno != EINTR { return errno }
                if ready <= 0 {
                    if stopping.load(ordering: .relaxed) { return EINTR }
                    continue
                }
            }
            guard let base = bytes.baseAddress else { return 0 }
            let written = Glibc.write(fd, base + offset, min(chunk, bytes.count - offset))
            if written < 0 {
                if errno == EINTR || errno == EAGAIN { continue }
                return errno
            }
            offset += written
        }
        return 0
    }
}

/// A message on standard error; one that cannot be written is dropped, as tcpdump drops it.
func printError(_ message: String) {
    let bytes = Array((message + "\n").utf8)
    bytes.withUnsafeBytes { _ = StandardStreams.writeAll($0, to: 2) }
}
