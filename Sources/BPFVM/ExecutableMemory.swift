#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Machine code in pages of its own: mapped writable, filled, then switched to read and
/// execute, so the memory is never writable and executable at once. Unmapped on `close()`
/// or deinit.
final class ExecutableMemory {
    private(set) var base: UnsafeRawPointer?
    let size: Int

    init(code: [UInt8]) throws(VMError) {
        let page = max(Int(sysconf(Int32(_SC_PAGESIZE))), 4096)
        size = max(page, (code.count + page - 1) / page * page)
        guard let mapped = mmap(nil, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0),
              mapped != UnsafeMutableRawPointer(bitPattern: -1) else {
            throw VMError(.unsupported("the JIT could not map \(size) bytes for code (errno \(errno))"))
        }
        copy(code, to: mapped)
        guard mprotect(mapped, size, PROT_READ | PROT_EXEC) == 0 else {
            let error = errno
            munmap(mapped, size)
            throw VMError(.unsupported("the JIT could not make its code executable (errno \(error))"))
        }
        base = UnsafeRawPointer(mapped)
    }

    func close() {
        guard let base else { return }
        munmap(UnsafeMutableRawPointer(mutating: base), size)
        self.base = nil
    }

    deinit { close() }
}

/// Outside the typed-throws initializer: a closure there can clobber the error in release builds.
@inline(never)
private func copy(_ code: [UInt8], to destination: UnsafeMutableRawPointer) {
    code.withUnsafeBytes { bytes in
        if let source = bytes.baseAddress { destination.copyMemory(from: source, byteCount: bytes.count) }
    }
}
