#if os(Linux)
import CBPFLinux
import Glibc

extension SystemCall {
    /// The JIT's machine code for a program (`jited_prog_insns`), as `bpftool prog dump
    /// jited` reads it; empty when the JIT is off.
    public static func jitedInstructions(fd: Int32) throws(BPFError) -> [UInt8] {
        var info = bpf_prog_info()
        try self.info(&info, fd: fd)
        let size = Int(info.jited_prog_len)
        guard size > 0 else { return [] }
        var bytes = [UInt8](repeating: 0, count: size)
        try bytes.withMutableBytes { buffer throws(BPFError) in
            info = bpf_prog_info()
            info.jited_prog_len = UInt32(size)
            info.jited_prog_insns = address(buffer.baseAddress)
            try self.info(&info, fd: fd)
        }
        return Array(bytes.prefix(min(size, Int(info.jited_prog_len))))
    }
}
#endif
