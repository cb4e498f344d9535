#if os(Linux)
import CBPFLinux
import Glibc

/// The bpf(2) system call. `attr` is the command's part of `union bpf_attr`, zero elsewhere
/// as the kernel requires; EINTR and EAGAIN are retried as libbpf does.
@discardableResult
func bpf(_ command: bpf_cmd, _ attr: inout bpf_attr, name: String, subject: String? = nil) throws(BPFError) -> Int32 {
    var attempts = 0
    while true {
        let result = swiftbpf_bpf(Int32(command.rawValue), &attr, UInt32(MemoryLayout<bpf_attr>.size))
        if result >= 0 { return Int32(truncatingIfNeeded: result) }
        let code = swiftbpf_errno()
        attempts += 1
        if (code == EINTR || code == EAGAIN) && attempts < 5 { continue }
        throw BPFError(operation: name, errno: code, subject: subject)
    }
}

/// After a failed bpf(2) made in place: retries EINTR and EAGAIN as `bpf` does, else throws.
@inline(never)
func retryOrThrow(_ command: bpf_cmd, _ attr: inout bpf_attr, name: String) throws(BPFError) {
    let code = swiftbpf_errno()
    guard code == EINTR || code == EAGAIN else { throw BPFError(operation: name, errno: code) }
    try bpf(command, &attr, name: name)
}

/// A zeroed `bpf_attr`, as every command needs its unused bytes to be.
@inline(__always)
func zeroedAttributes() -> bpf_attr {
    var attr = bpf_attr()
    memset(&attr, 0, MemoryLayout<bpf_attr>.size)
    return attr
}
#endif

#if os(Linux)
/// The bpf(2) commands one by one, with Swift arguments and `BPFError`s: the thin layer
/// under `Map`, `KernelProgram` and links, open to callers who need a command those do not
/// offer. File descriptors passed as `Int32` are borrowed for the call; returned
/// `FileDescriptor`s are owned by the caller.
public enum SystemCall {}

/// A pointer as bpf_attr's `__aligned_u64` fields take it.
@inline(__always)
func address(_ pointer: UnsafeRawPointer?) -> UInt64 { UInt64(UInt(bitPattern: pointer)) }

/// `char[BPF_OBJ_NAME_LEN]`, as Swift imports it.
typealias ObjectNameField = (CChar, CChar, CChar, CChar, CChar, CChar, CChar, CChar,
                             CChar, CChar, CChar, CChar, CChar, CChar, CChar, CChar)

/// `name` as a `char[BPF_OBJ_NAME_LEN]` field: at most 15 bytes, with characters the kernel
/// refuses (it takes letters, digits, '_' and '.') replaced by '_'.
///
/// Not inlined, like the other helpers here that pass a non-throwing closure to the
/// standard library's typed-throws `withUnsafe…(of:)`: Swift 6.3's optimizer can let such a
/// closure clobber the error register of a typed-throws caller, so that a call that
/// succeeded reports an error (seen in release builds of `SystemCall.createMap`).
@inline(never)
func objectName(_ name: String) -> ObjectNameField {
    var field: ObjectNameField = (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
    withUnsafeMutableBytes(of: &field) { bytes in
        var count = 0
        for byte in name.utf8 where count < bytes.count - 1 {
            let allowed = (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x5a) || (byte >= 0x61 && byte <= 0x7a)
                || byte == 0x5f || byte == 0x2e
            bytes[count] = allowed ? byte : 0x5f
            count += 1
        }
    }
    return field
}

/// The text of a NUL-terminated `char[BPF_OBJ_NAME_LEN]` field.
@inline(never)
func string(fromCharacters field: ObjectNameField) -> String {
    withUnsafeBytes(of: field) { bytes in
        let end = bytes.firstIndex(of: 0) ?? bytes.count
        return String(decoding: bytes[0..<end], as: UTF8.self)
    }
}

/// The bytes of a value (see `objectName` on why this is not inlined).
@inline(never)
func byteArray<T: BitwiseCopyable>(of value: T) -> [UInt8] {
    withUnsafeBytes(of: value) { Array($0) }
}
#endif

#if os(Linux)
// Array's `withUnsafe…` methods rethrow untyped errors; these keep `BPFError` typed.
extension Array {
    @inline(__always)
    func withBytes<R>(_ body: (UnsafeRawBufferPointer) throws(BPFError) -> R) throws(BPFError) -> R {
        try withUnsafeBytes { bytes in Result { () throws(BPFError) in try body(bytes) } }.get()
    }

    @inline(__always)
    mutating func withMutableBytes<R>(_ body: (UnsafeMutableRawBufferPointer) throws(BPFError) -> R) throws(BPFError) -> R {
        try withUnsafeMutableBytes { bytes in Result { () throws(BPFError) in try body(bytes) } }.get()
    }

    @inline(__always)
    mutating func withMutableBuffer<R>(_ body: (UnsafeMutableBufferPointer<Element>) throws(BPFError) -> R) throws(BPFError) -> R {
        try withUnsafeMutableBufferPointer { buffer in Result { () throws(BPFError) in try body(buffer) } }.get()
    }
}
#endif
