#if os(Linux)
import BPFObject
import Glibc

extension Map {
    /// Bytes of the opaque position BPF_MAP_*_BATCH hands back: a key for arrays and LPM
    /// tries, a 4-byte bucket index for hashes; room for either.
    public var batchTokenSize: Int { max(keySize, 4) }

    /// One batch read from `token` (nil for the start) into `keys` and `values` (room for
    /// `capacity` elements each). Returns how many were read, and the token to go on with
    /// (nil when the map is exhausted).
    public func lookupBatch(from token: [UInt8]?, capacity: Int, keys: UnsafeMutableRawBufferPointer,
                            values: UnsafeMutableRawBufferPointer, delete: Bool = false,
                            flags: ElementFlags = []) throws(BPFError) -> (count: Int, next: [UInt8]?) {
        let operation = delete ? "BPF_MAP_LOOKUP_AND_DELETE_BATCH" : "BPF_MAP_LOOKUP_BATCH"
        guard capacity > 0, capacity <= Int(UInt32.max), keys.count >= capacity * keySize,
              values.count >= capacity * valueBufferSize else {
            throw BPFError(operation: operation, errno: EINVAL, subject: name,
                           detail: "the buffers must hold \(capacity) keys of \(keySize) bytes and values of \(valueBufferSize) bytes")
        }
        if let token, token.count != batchTokenSize {
            throw BPFError(operation: operation, errno: EINVAL, subject: name,
                           detail: "a batch token is \(batchTokenSize) bytes; got \(token.count)")
        }
        var next = [UInt8](repeating: 0, count: batchTokenSize)
        var count = UInt32(capacity)
        let more = try next.withMutableBytes { out throws(BPFError) in
            do throws(BPFError) {
                if let token {
                    return try token.withBytes { input throws(BPFError) in
                        try SystemCall.lookupBatch(map: fileDescriptor.rawValue, inBatch: input.baseAddress, outBatch: out.baseAddress,
                                                   keys: keys.baseAddress, values: values.baseAddress, count: &count,
                                                   elementFlags: flags.rawValue, delete: delete)
                    }
                }
                return try SystemCall.lookupBatch(map: fileDescriptor.rawValue, inBatch: nil, outBatch: out.baseAddress,
                                                  keys: keys.baseAddress, values: values.baseAddress, count: &count,
                                                  elementFlags: flags.rawValue, delete: delete)
            } catch {
                throw named(error)
            }
        }
        return (Int(count), more ? next : nil)
    }

    /// Every entry, read (and with `delete`, removed) in batches of `batchSize`. A hash
    /// bucket larger than the batch makes the kernel refuse it (ENOSPC); the batch then
    /// grows and the read goes on from the same place.
    public func lookupBatch(batchSize: Int = 256, delete: Bool = false) throws(BPFError) -> [(key: [UInt8], value: [UInt8])] {
        var capacity = max(1, min(batchSize, max(maxEntries, 1)))
        var entries: [(key: [UInt8], value: [UInt8])] = []
        var token: [UInt8]?
        while true {
            var keys = [UInt8](repeating: 0, count: capacity * keySize)
            var values = [UInt8](repeating: 0, count: capacity * valueBufferSize)
            let result: (count: Int, next: [UInt8]?)
            do {
                result = try keys.withMutableBytes { keyBuffer throws(BPFError) in
                    try values.withMutableBytes { valueBuffer throws(BPFError) in
                        try lookupBatch(from: token, capacity: capacity, keys: keyBuffer, values: valueBuffer, delete: delete)
                    }
                }
            } catch where error.errno == ENOSPC && capacity < max(maxEntries, 1) {
                capacity = min(capacity * 2, max(maxEntries, 1))
                continue
            }
            for index in 0..<min(result.count, capacity) {
                entries.append((Array(keys[index * keySize..<(index + 1) * keySize]),
                                Array(values[index * valueBufferSize..<(index + 1) * valueBufferSize])))
            }
            guard let next = result.next else { return entries }
            token = next
        }
    }

    /// Writes `keys[i]` → `values[i]` for all i in one call (BPF_MAP_UPDATE_BATCH).
    public func updateBatch(keys: [[UInt8]], values: [[UInt8]], flags: ElementFlags = .any) throws(BPFError) {
        guard keys.count == values.count else {
            throw BPFError(operation: "BPF_MAP_UPDATE_BATCH", errno: EINVAL, subject: name,
                           detail: "\(keys.count) keys but \(values.count) values")
        }
        guard !keys.isEmpty else { return }
        for key in keys where key.count != keySize { throw sizeError(key: key.count, value: nil, "BPF_MAP_UPDATE_BATCH") }
        for value in values where value.count != valueBufferSize { throw sizeError(key: keySize, value: value.count, "BPF_MAP_UPDATE_BATCH") }
        let flatKeys = keys.flatMap { $0 }
        let flatValues = values.flatMap { $0 }
        var count = UInt32(keys.count)
        do {
            try flatKeys.withBytes { keyBytes throws(BPFError) in
                try flatValues.withBytes { valueBytes throws(BPFError) in
                    try SystemCall.updateBatch(map: fileDescriptor.rawValue, keys: keyBytes.baseAddress, values: valueBytes.baseAddress,
                                               count: &count, elementFlags: flags.rawValue)
                }
            }
        } catch {
            var error = named(error)
            error.detail = "\(count) of \(keys.count) elements were written before the failure"
            throw error
        }
    }

    /// Deletes `keys` in one call (BPF_MAP_DELETE_BATCH); returns how many were deleted.
    /// A missing key stops the batch with ENOENT, as the kernel does.
    @discardableResult
    public func deleteBatch(keys: [[UInt8]]) throws(BPFError) -> Int {
        guard !keys.isEmpty else { return 0 }
        for key in keys where key.count != keySize { throw sizeError(key: key.count, value: nil, "BPF_MAP_DELETE_BATCH") }
        let flatKeys = keys.flatMap { $0 }
        var count = UInt32(keys.count)
        do {
            try flatKeys.withBytes { keyBytes throws(BPFError) in
                try SystemCall.deleteBatch(map: fileDescriptor.rawValue, keys: keyBytes.baseAddress, count: &count)
            }
        } catch {
            var error = named(error)
            error.detail = "\(count) of \(keys.count) keys were deleted before the failure"
            throw error
        }
        return Int(count)
    }
}
#endif
