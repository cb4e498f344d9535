#if os(Linux)
import Glibc

/// Small files the kernel publishes (tracefs ids, sysfs PMU types, CPU lists), read with
/// plain system calls: the module does not use Foundation.
enum KernelFile {
    /// The whole file at `path`; files under /sys and /proc report size 0, so read to EOF.
    static func read(_ path: String, limit: Int = 1 << 20) throws(BPFError) -> [UInt8] {
        try readWholeFile(path, limit: limit)
    }

    /// A regular file of known size (a binary to probe), read in one piece.
    static func contents(_ path: String) throws(BPFError) -> [UInt8] {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw BPFError(operation: "open", errno: errno, subject: path) }
        defer { close(fd) }
        var status = stat()
        guard fstat(fd, &status) == 0 else { throw BPFError(operation: "fstat", errno: errno, subject: path) }
        let size = Int(status.st_size)
        guard size > 0 else { return try read(path) }
        var bytes = [UInt8](repeating: 0, count: size)
        let (done, code) = readFully(fd, into: &bytes)
        guard code == 0 else { throw BPFError(operation: "read", errno: code, subject: path) }
        return done == size ? bytes : Array(bytes[0..<done])
    }

    /// pread until `bytes` is full or the file ends: (bytes read, errno or 0). Kept out of
    /// line: Swift 6.3's optimizer can let a closure passed to `withUnsafe…` clobber the
    /// error of a typed-throws function it is inlined into.
    @inline(never)
    private static func readFully(_ fd: Int32, into bytes: inout [UInt8]) -> (Int, Int32) {
        bytes.withUnsafeMutableBytes { buffer in
            guard let base = buffer.baseAddress else { return (0, 0) }
            var done = 0
            while done < buffer.count {
                let count = pread(fd, base + done, buffer.count - done, off_t(done))
                if count < 0 {
                    if errno == EINTR { continue }
                    return (done, errno)
                }
                if count == 0 { break }
                done += count
            }
            return (done, 0)
        }
    }

    static func text(_ path: String) throws(BPFError) -> String {
        String(decoding: try read(path), as: UTF8.self)
    }

    /// A file holding one decimal number (tracepoint ids, PMU types).
    static func number(_ path: String) throws(BPFError) -> UInt64 {
        let text = trimmed(try self.text(path))
        guard let value = UInt64(text) else {
            throw BPFError(operation: "read", errno: EINVAL, subject: path, detail: "expected a number, found '\(text.prefix(40))'")
        }
        return value
    }

    static func exists(_ path: String) -> Bool { access(path, F_OK) == 0 }

    @inline(never)
    static func trimmed(_ text: String) -> String {
        let isSpace: (Character) -> Bool = { $0 == " " || $0 == "\n" || $0 == "\t" || $0 == "\r" }
        var view = Substring(text)
        while let first = view.first, isSpace(first) { view = view.dropFirst() }
        while let last = view.last, isSpace(last) { view = view.dropLast() }
        return String(view)
    }

    /// CPU numbers from a kernel CPU list such as "0-3,5,7-8" (/sys/devices/system/cpu/online).
    @inline(never)
    static func cpuList(_ text: String) -> [Int]? {
        var cpus: [Int] = []
        for part in trimmed(text).split(separator: ",") {
            let bounds = part.split(separator: "-", maxSplits: 1, omittingEmptySubsequences: false)
            guard let first = bounds.first, let low = Int(first), low >= 0 else { return nil }
            let high = bounds.count == 2 ? Int(bounds[1]) : low
            guard let high, high >= low, high - low < 1 << 16 else { return nil }
            cpus += low...high
        }
        return cpus
    }

    /// The CPUs that are online now.
    static func onlineCPUs() throws(BPFError) -> [Int] {
        let path = "/sys/devices/system/cpu/online"
        let text = try self.text(path)
        guard let cpus = cpuList(text), !cpus.isEmpty else {
            throw BPFError(operation: "read", errno: EINVAL, subject: path, detail: "unreadable CPU list '\(text.prefix(40))'")
        }
        return cpus
    }
}

#endif
