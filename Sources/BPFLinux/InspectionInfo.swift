#if os(Linux)
import CBPFLinux
import Glibc

extension SystemCall {
    /// The JIT's machine code for a program (`jited_prog_insns`), as `bpftool prog dump
    /// jited` reads it; empty when the JIT is off.
    public static func jitedInstructions(fd: Int32) throws(BPFError) -> [UInt8] {
        try programInfoArray(fd: fd, length: \.jited_prog_len, pointer: \.jited_prog_insns)
    }

    /// The JIT'd functions of a program, the main program first and then its subprograms:
    /// each one's kernel address (`jited_ksyms`) and length in bytes (`jited_func_lens`).
    /// Their code lies end to end in `jitedInstructions`. Empty when the JIT is off.
    public static func jitedFunctions(fd: Int32) throws(BPFError) -> [(address: UInt64, length: Int)] {
        let addresses = try programInfoArray(fd: fd, length: \.nr_jited_ksyms, pointer: \.jited_ksyms, elementSize: 8)
        let lengths = try programInfoArray(fd: fd, length: \.nr_jited_func_lens, pointer: \.jited_func_lens, elementSize: 4)
        var functions: [(address: UInt64, length: Int)] = []
        for index in 0..<min(addresses.count / 8, lengths.count / 4) {
            functions.append((nativeInteger(addresses[index * 8..<index * 8 + 8]), Int(nativeInteger(lengths[index * 4..<index * 4 + 4]))))
        }
        return functions
    }

    /// An unsigned integer stored in host byte order (what the kernel writes).
    static func nativeInteger(_ bytes: ArraySlice<UInt8>) -> UInt64 {
        var littleEndian: UInt64 = 0
        for (index, byte) in bytes.enumerated() { littleEndian |= UInt64(byte) << UInt64(index * 8) }
        return bytes.count == 8 ? UInt64(littleEndian: littleEndian) : UInt64(UInt32(littleEndian: UInt32(truncatingIfNeeded: littleEndian)))
    }

    /// Names of kernel addresses from /proc/kallsyms (JIT'd programs appear there as
    /// `bpf_prog_<tag>_<name>` when net.core.bpf_jit_kallsyms is on); absent ones are left out.
    public static func kernelSymbols(at addresses: Set<UInt64>) -> [UInt64: String] {
        guard !addresses.isEmpty, let bytes = try? readWholeFile("/proc/kallsyms") else { return [:] }
        var names: [UInt64: String] = [:]
        for line in String(decoding: bytes, as: UTF8.self).split(separator: "\n") {
            let fields = line.split(whereSeparator: { $0 == " " || $0 == "\t" })
            guard fields.count >= 3, let address = UInt64(fields[0], radix: 16), addresses.contains(address) else { continue }
            names[address] = String(fields[2])
        }
        return names
    }

    /// One of `bpf_prog_info`'s variable-length arrays: a first call for its length (a byte
    /// count, or an element count for arrays of `elementSize`-byte elements), a second with a
    /// buffer that size; what the kernel filled, trimmed to what it reported, as bytes.
    static func programInfoArray(fd: Int32, length: WritableKeyPath<bpf_prog_info, UInt32>,
                                 pointer: WritableKeyPath<bpf_prog_info, UInt64>, elementSize: Int = 1) throws(BPFError) -> [UInt8] {
        var info = bpf_prog_info()
        try self.info(&info, fd: fd)
        let count = Int(info[keyPath: length])
        guard count > 0 else { return [] }
        var bytes = [UInt8](repeating: 0, count: count * elementSize)
        try bytes.withMutableBytes { buffer throws(BPFError) in
            info = bpf_prog_info()
            info[keyPath: length] = UInt32(count)
            info[keyPath: pointer] = address(buffer.baseAddress)
            try self.info(&info, fd: fd)
        }
        return Array(bytes.prefix(min(count, Int(info[keyPath: length])) * elementSize))
    }
}
#endif
