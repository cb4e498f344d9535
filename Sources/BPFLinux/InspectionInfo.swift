#if os(Linux)
import CBPFLinux
import Glibc

extension SystemCall {
    /// The JIT's machine code for a program (`jited_prog_insns`), as `bpftool prog dump
    /// jited` reads it; empty when the JIT is off.
    public static func jitedInstructions(fd: Int32) throws(BPFError) -> [UInt8] {
        try programInfoArray(fd: fd, length: \.jited_prog_len, pointer: \.jited_prog_insns)
    }

    /// One of `bpf_prog_info`'s variable-length arrays: a first call for its length, a
    /// second with a buffer that size; what the kernel filled, trimmed to what it reported.
    static func programInfoArray(fd: Int32, length: WritableKeyPath<bpf_prog_info, UInt32>,
                                 pointer: WritableKeyPath<bpf_prog_info, UInt64>) throws(BPFError) -> [UInt8] {
        var info = bpf_prog_info()
        try self.info(&info, fd: fd)
        let size = Int(info[keyPath: length])
        guard size > 0 else { return [] }
        var bytes = [UInt8](repeating: 0, count: size)
        try bytes.withMutableBytes { buffer throws(BPFError) in
            info = bpf_prog_info()
            info[keyPath: length] = UInt32(size)
            info[keyPath: pointer] = address(buffer.baseAddress)
            try self.info(&info, fd: fd)
        }
        return Array(bytes.prefix(min(size, Int(info[keyPath: length]))))
    }
}
#endif
