#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A file opened for reading or writing capture files in large pieces with read(2) and
/// write(2) — the portable POSIX calls, so this works wherever PacketCapture builds. The
/// path `-` is standard input or output, as for tcpdump. Closed by `close()` or deinit.
final class CaptureFile {
    /// Why a system call failed: the operation, the path and the system's words.
    struct Failure: Error {
        var message: String
    }

    let path: String
    private var descriptor: Int32
    private let ownsDescriptor: Bool

    init(reading path: String) throws(Failure) {
        self.path = path
        if path == "-" {
            (descriptor, ownsDescriptor) = (STDIN_FILENO, false)
        } else {
            descriptor = open(path, O_RDONLY)
            ownsDescriptor = true
            guard descriptor >= 0 else { throw Self.failure("cannot read", path) }
        }
    }

    init(writing path: String) throws(Failure) {
        self.path = path
        if path == "-" {
            (descriptor, ownsDescriptor) = (STDOUT_FILENO, false)
        } else {
            descriptor = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
            ownsDescriptor = true
            guard descriptor >= 0 else { throw Self.failure("cannot create", path) }
        }
    }

    deinit { close() }

    func close() {
        if ownsDescriptor && descriptor >= 0 { _ = Self.closeDescriptor(descriptor) }
        descriptor = -1
    }

    /// Reads into `buffer` what one read(2) gives: all of it from a regular file short of
    /// its end, what has arrived so far from a pipe. 0 only at the end of the file.
    func read(into buffer: UnsafeMutableRawBufferPointer) throws(Failure) -> Int {
        guard let base = buffer.baseAddress, buffer.count > 0 else { return 0 }
        while true {
            let count = Self.readDescriptor(descriptor, base, buffer.count)
            if count >= 0 { return count }
            if errno != EINTR { throw Self.failure("cannot read", path) }
        }
    }

    /// Writes all of `bytes`.
    func write(_ bytes: UnsafeRawBufferPointer) throws(Failure) {
        guard let base = bytes.baseAddress else { return }
        var written = 0
        while written < bytes.count {
            let count = Self.writeDescriptor(descriptor, base + written, bytes.count - written)
            if count < 0 {
                if errno == EINTR { continue }
                throw Self.failure("cannot write", path)
            }
            written += count
        }
    }

    private static func failure(_ operation: String, _ path: String) -> Failure {
        let code = errno
        let reason = strerror(code).map { String(cString: $0) } ?? "error \(code)"
        return Failure(message: "\(operation) \(path): \(reason)")
    }

    // The C library's names, which this class's own methods shadow.
    private static func readDescriptor(_ fd: Int32, _ buffer: UnsafeMutableRawPointer, _ count: Int) -> Int {
        #if canImport(Glibc)
        Glibc.read(fd, buffer, count)
        #else
        Darwin.read(fd, buffer, count)
        #endif
    }

    private static func writeDescriptor(_ fd: Int32, _ buffer: UnsafeRawPointer, _ count: Int) -> Int {
        #if canImport(Glibc)
        Glibc.write(fd, buffer, count)
        #else
        Darwin.write(fd, buffer, count)
        #endif
    }

    private static func closeDescriptor(_ fd: Int32) -> Int32 {
        #if canImport(Glibc)
        Glibc.close(fd)
        #else
        Darwin.close(fd)
        #endif
    }
}
