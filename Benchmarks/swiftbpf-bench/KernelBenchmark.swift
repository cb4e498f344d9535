#if os(Linux)
import BPFLinux
import CBPFLinux
import Glibc

/// The cost of the Swift map layer over bpf(2): lookups and updates on an array and a hash
/// (8-byte keys and values) through `Map` (raw buffers) and `TypedMap`, against the bare
/// system call made in the same process as libbpf makes it (zeroed `bpf_attr`, fields, call).
/// Rounds alternate between the ways so that a busy machine slows them alike; best of each.
/// The bare call is timed again at the end of each round, to show how steady the floor is.
enum KernelBenchmark {
    static func run() throws {
        print("suite kernel: map lookup and update through bpf(2), 8-byte key and value (release build)")
        let array = try Map(type: .array, keySize: 4, valueSize: 8, maxEntries: 1024, name: "bench_array")
        let hash = try Map(type: .hash, keySize: 8, valueSize: 8, maxEntries: 1024, name: "bench_hash")
        defer {
            array.close()
            hash.close()
        }
        // Array keys are 4-byte indexes by the kernel's rule; the hash has the 8-byte key.
        let arrayTyped = try TypedMap<UInt32, UInt64>(array)
        let hashTyped = try TypedMap<UInt64, UInt64>(hash)
        for key in 0..<1024 {
            try arrayTyped.update(UInt32(key), UInt64(key))
            try hashTyped.update(UInt64(key), UInt64(key))
        }

        print(pad("operation", 22, left: true) + pad("bare ns", 10) + pad("Map ns", 10) + pad("Map/bare", 10)
              + pad("TypedMap ns", 13) + pad("Typed/bare", 12) + pad("bare again", 12))
        var sink: UInt64 = 0
        try compare("array lookup", map: array, bare: { fd, key, value in
            bare(BPF_MAP_LOOKUP_ELEM, fd, key, value)
        }, raw: { key, value in
            _ = try array.lookup(key: key, into: value)
        }, typed: { index in
            sink &+= try arrayTyped.lookup(7) ?? index
        }, keySize: 4)
        try compare("array update", map: array, bare: { fd, key, value in
            bare(BPF_MAP_UPDATE_ELEM, fd, key, value)
        }, raw: { key, value in
            try array.update(key: UnsafeRawBufferPointer(key), value: UnsafeRawBufferPointer(value))
        }, typed: { index in
            try arrayTyped.update(7, index)
        }, keySize: 4)
        try compare("hash lookup", map: hash, bare: { fd, key, value in
            bare(BPF_MAP_LOOKUP_ELEM, fd, key, value)
        }, raw: { key, value in
            _ = try hash.lookup(key: key, into: value)
        }, typed: { index in
            sink &+= try hashTyped.lookup(7) ?? index
        }, keySize: 8)
        try compare("hash update", map: hash, bare: { fd, key, value in
            bare(BPF_MAP_UPDATE_ELEM, fd, key, value)
        }, raw: { key, value in
            try hash.update(key: UnsafeRawBufferPointer(key), value: UnsafeRawBufferPointer(value))
        }, typed: { index in
            try hashTyped.update(7, index)
        }, keySize: 8)
        if sink == 0x5eed { print("") }  // keeps the lookups alive
    }

    static let rounds = 40
    static let roundTime = Duration.milliseconds(30)

    /// One bpf(2) element command as C code makes it.
    @inline(never)
    static func bare(_ command: bpf_cmd, _ fd: Int32, _ key: UnsafeRawPointer, _ value: UnsafeMutableRawPointer) {
        var attr = bpf_attr()
        attr.map_fd = UInt32(bitPattern: fd)
        attr.key = UInt64(UInt(bitPattern: key))
        attr.value = UInt64(UInt(bitPattern: value))
        attr.flags = 0
        if swiftbpf_bpf(Int32(command.rawValue), &attr, UInt32(MemoryLayout<bpf_attr>.size)) < 0 {
            print("bare bpf(2) failed: errno \(swiftbpf_errno())")
        }
    }

    static func compare(_ name: String, map: Map, bare: (Int32, UnsafeRawPointer, UnsafeMutableRawPointer) -> Void,
                        raw: (UnsafeRawBufferPointer, UnsafeMutableRawBufferPointer) throws -> Void,
                        typed: (UInt64) throws -> Void, keySize: Int) throws {
        let fd = map.fileDescriptor.rawValue
        let key = UnsafeMutableRawBufferPointer.allocate(byteCount: 8, alignment: 8)
        let value = UnsafeMutableRawBufferPointer.allocate(byteCount: 8, alignment: 8)
        defer {
            key.deallocate()
            value.deallocate()
        }
        key.storeBytes(of: UInt64(7), as: UInt64.self)
        value.storeBytes(of: UInt64(70), as: UInt64.self)
        let keyBytes = UnsafeRawBufferPointer(rebasing: key[0..<keySize])
        var counter: UInt64 = 0
        var again = Double.infinity
        var best = (bare: Double.infinity, raw: Double.infinity, typed: Double.infinity)
        // Many short alternating rounds: on a shared machine the minimum of each is the
        // figure least disturbed by other work.
        for _ in 0..<rounds {
            best.bare = min(best.bare, measure(rounds: 1, target: roundTime) {
                bare(fd, key.baseAddress.unsafelyUnwrapped, value.baseAddress.unsafelyUnwrapped)
            })
            best.raw = min(best.raw, try measure(rounds: 1, target: roundTime) { try raw(keyBytes, value) })
            best.typed = min(best.typed, try measure(rounds: 1, target: roundTime) {
                counter &+= 1
                try typed(counter)
            })
            again = min(again, measure(rounds: 1, target: roundTime) {
                bare(fd, key.baseAddress.unsafelyUnwrapped, value.baseAddress.unsafelyUnwrapped)
            })
        }
        print(pad(name, 22, left: true) + pad(format(best.bare, decimals: 1), 10) + pad(format(best.raw, decimals: 1), 10)
              + pad(format(best.raw / best.bare, decimals: 3), 10) + pad(format(best.typed, decimals: 1), 13)
              + pad(format(best.typed / best.bare, decimals: 3), 12) + pad(format(again, decimals: 1), 12))
    }
}
#else
/// bpf(2) exists only on Linux.
enum KernelBenchmark {
    static func run() throws { print("suite kernel: skipped (Linux only)") }
}
#endif
