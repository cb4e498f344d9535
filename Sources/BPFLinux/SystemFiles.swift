#if os(Linux)
import Glibc

/// Reads a whole file (sysfs, procfs, vmlinux BTF), up to `limit` bytes.
func readWholeFile(_ path: String, limit: Int = 256 << 20) throws(BPFError) -> [UInt8] {
    let fd = open(path, O_RDONLY | O_CLOEXEC)
    guard fd >= 0 else { throw BPFError(operation: "open \(path)", errno: errno) }
    defer { close(fd) }
    var bytes: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 1 << 16)
    while bytes.count < limit {
        let count = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
        if count < 0 {
            if errno == EINTR { continue }
            throw BPFError(operation: "read \(path)", errno: errno)
        }
        if count == 0 { break }
        bytes += chunk[0..<count]
    }
    return bytes
}
#endif
