#if os(Linux)
import CBPFLinux
import Glibc

extension SystemCall {
    /// BPF_BTF_LOAD. On failure the call is repeated with a log (level 1, growing up to
    /// 16 MiB), so that the error carries the kernel's reasons.
    public static func loadBTF(_ bytes: [UInt8]) throws(BPFError) -> FileDescriptor {
        do {
            return try loadBTF(bytes, log: nil)
        } catch where error.errno != EPERM {
            var size = 64 * 1024
            while true {
                var log = [UInt8](repeating: 0, count: size)
                do {
                    return try log.withMutableBuffer { buffer throws(BPFError) in try loadBTF(bytes, log: buffer) }
                } catch where error.errno == ENOSPC && size < maximumLogSize {
                    size *= 4
                }
            }
        }
    }

    /// The largest log buffer SwiftBPF offers the kernel (the kernel's limit is larger).
    static let maximumLogSize = 16 * 1024 * 1024

    /// BPF_BTF_LOAD with an optional log buffer (level 1).
    public static func loadBTF(_ bytes: [UInt8], log: UnsafeMutableBufferPointer<UInt8>?) throws(BPFError) -> FileDescriptor {
        var attr = zeroedAttributes()
        let fd: Int32
        do {
            fd = try bytes.withBytes { blob throws(BPFError) in
                attr.btf = address(blob.baseAddress)
                attr.btf_size = UInt32(truncatingIfNeeded: blob.count)
                if let log, log.count > 0 {
                    log[0] = 0
                    attr.btf_log_buf = address(log.baseAddress)
                    attr.btf_log_size = UInt32(clamping: log.count)
                    attr.btf_log_level = 1
                }
                return try bpf(BPF_BTF_LOAD, &attr, name: "BPF_BTF_LOAD")
            }
        } catch {
            var error = error
            if let log, let text = logText(log), !text.isEmpty { error.log = text }
            throw error
        }
        return FileDescriptor(owning: fd)
    }
}
#endif
