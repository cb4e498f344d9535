#if os(Linux)
import CBPFLinux
import Glibc

/// The bpf(2) system call. `attr` is the command's part of `union bpf_attr`, zero elsewhere
/// as the kernel requires; EINTR and EAGAIN are retried as libbpf does.
@discardableResult
func bpf(_ command: bpf_cmd, _ attr: inout bpf_attr, name: String, subject: String? = nil) throws(BPFError) -> Int32 {
    var attempts = 0
    while true {
        let result = withUnsafeMutablePointer(to: &attr) {
            swiftbpf_bpf(Int32(command.rawValue), $0, UInt32(MemoryLayout<bpf_attr>.size))
        }
        if result >= 0 { return Int32(truncatingIfNeeded: result) }
        let code = swiftbpf_errno()
        attempts += 1
        if (code == EINTR || code == EAGAIN) && attempts < 5 { continue }
        throw BPFError(operation: name, errno: code, subject: subject)
    }
}

/// A zeroed `bpf_attr`, as every command needs its unused bytes to be.
func zeroedAttributes() -> bpf_attr {
    var attr = bpf_attr()
    withUnsafeMutableBytes(of: &attr) { _ = $0.initializeMemory(as: UInt8.self, repeating: 0) }
    return attr
}
#endif
