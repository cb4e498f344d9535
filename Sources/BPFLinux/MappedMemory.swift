#if os(Linux)
import BPFObject
import Glibc

/// A map's values mapped into this process (arrays with BPF_F_MMAPABLE, global data):
/// reads and writes go straight to the memory programs use, without system calls. Every
/// access is bounds-checked; the mapping is removed by `close()` or on deinit.
///
/// Not `Sendable`: unmapping while another thread reads would be a use after free. Share
/// the `Map` and map it again where needed.
public final class MappedMemory {
    private var base: UnsafeMutableRawPointer?
    /// Bytes mapped (whole pages).
    private let mappedSize: Int
    /// Bytes that belong to the map's values.
    public let count: Int
    public let isWritable: Bool
    /// What the errors name.
    let subject: String

    init(fd: Int32, size: Int, mappedSize: Int, writable: Bool, subject: String) throws(BPFError) {
        let protection = writable ? PROT_READ | PROT_WRITE : PROT_READ
        let address = mmap(nil, mappedSize, protection, MAP_SHARED, fd, 0)
        guard let address, address != MAP_FAILED else {
            let code = errno
            throw BPFError(operation: "mmap", errno: code, subject: subject,
                           detail: code == EPERM && writable ? "the map is frozen: map it read-only"
                               : code == EACCES && writable ? "the map is read-only to programs (BPF_F_RDONLY_PROG): map it read-only"
                               : code == EINVAL ? "the map was not created with BPF_F_MMAPABLE (or its type cannot be mapped)" : nil)
        }
        base = address
        self.mappedSize = mappedSize
        count = size
        isWritable = writable
        self.subject = subject
    }

    deinit { close() }

    /// Removes the mapping; later accesses throw.
    public func close() {
        if let base { munmap(base, mappedSize) }
        base = nil
    }

    public var isOpen: Bool { base != nil }

    private func checked(_ offset: Int, _ length: Int, write: Bool) throws(BPFError) -> UnsafeMutableRawPointer {
        guard let base else {
            throw BPFError(operation: write ? "MappedMemory.write" : "MappedMemory.read", errno: EBADF, subject: subject,
                           detail: "the mapping is closed")
        }
        guard offset >= 0, length >= 0, offset <= count, length <= count - offset else {
            throw BPFError(operation: write ? "MappedMemory.write" : "MappedMemory.read", errno: ERANGE, subject: subject,
                           detail: "bytes \(offset)..<\(offset &+ length) are outside the \(count)-byte mapping")
        }
        if write && !isWritable {
            throw BPFError(operation: "MappedMemory.write", errno: EACCES, subject: subject, detail: "the mapping is read-only")
        }
        return base + offset
    }

    /// The value of type `T` at byte `offset` (any alignment).
    public func load<T: BitwiseCopyable>(_ type: T.Type = T.self, at offset: Int) throws(BPFError) -> T {
        let pointer = try checked(offset, MemoryLayout<T>.size, write: false)
        return UnsafeRawPointer(pointer).loadUnaligned(as: T.self)
    }

    /// Stores `value` at byte `offset` (any alignment).
    public func store<T: BitwiseCopyable>(_ value: T, at offset: Int) throws(BPFError) {
        let pointer = try checked(offset, MemoryLayout<T>.size, write: true)
        pointer.storeBytes(of: value, as: T.self)
    }

    /// A copy of `length` bytes at `offset`.
    public func bytes(at offset: Int, count length: Int) throws(BPFError) -> [UInt8] {
        let pointer = try checked(offset, length, write: false)
        return Array(UnsafeRawBufferPointer(start: pointer, count: length))
    }

    /// Copies `bytes` to `offset`.
    public func write(_ bytes: [UInt8], at offset: Int) throws(BPFError) {
        let pointer = try checked(offset, bytes.count, write: true)
        bytes.withUnsafeBytes { source in
            if let from = source.baseAddress { pointer.copyMemory(from: from, byteCount: source.count) }
        }
    }

    /// The mapped values in place, for reading many at once; empty once closed.
    public func withUnsafeBytes<R, E: Error>(_ body: (UnsafeRawBufferPointer) throws(E) -> R) throws(E) -> R {
        try body(UnsafeRawBufferPointer(start: base, count: base == nil ? 0 : count))
    }
}

extension Map {
    /// Bytes between consecutive values of an array in memory: the value size rounded up to 8.
    public var elementStride: Int { (valueSize + 7) & ~7 }

    /// Maps the values of an array created with BPF_F_MMAPABLE (or a global-data map):
    /// element `i` is at `i * elementStride`. Frozen and read-only maps can only be mapped
    /// read-only.
    public func memoryMap(writable: Bool = true) throws(BPFError) -> MappedMemory {
        guard flags.contains(.mmapable) else {
            throw BPFError(operation: "mmap", errno: EINVAL, subject: name, detail: "the map was not created with BPF_F_MMAPABLE")
        }
        let size = elementStride * maxEntries
        let page = max(Int(sysconf(Int32(_SC_PAGESIZE))), 4096)
        let mapped = (size + page - 1) / page * page
        return try MappedMemory(fd: fileDescriptor.rawValue, size: size, mappedSize: max(mapped, page), writable: writable,
                                subject: name.isEmpty ? "map id \(id)" : name)
    }
}
#endif
