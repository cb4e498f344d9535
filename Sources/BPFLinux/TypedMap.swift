#if os(Linux)
import BPFObject
import Glibc

/// A map whose keys and values are fixed-layout Swift types (integers, tuples, structs of
/// them, laid out as the C side declares them): no arrays, no allocation per call. Sizes
/// are checked once, when the view is made. For per-CPU maps use `PerCPUMap`.
public struct TypedMap<Key: BitwiseCopyable, Value: BitwiseCopyable>: Sendable {
    public let map: Map

    /// A typed view of `map`; fails unless `Key` and `Value` have the map's sizes.
    public init(_ map: Map) throws(BPFError) {
        guard !map.isPerCPU else {
            throw BPFError(operation: "TypedMap", errno: EINVAL, subject: map.name,
                           detail: "\(map.type.kernelName) holds a value per CPU: use PerCPUMap")
        }
        try TypedMap.checkSizes(map, key: MemoryLayout<Key>.size, value: MemoryLayout<Value>.size)
        self.map = map
    }

    static func checkSizes(_ map: Map, key: Int, value: Int) throws(BPFError) {
        guard key == map.keySize, value == map.valueSize else {
            throw BPFError(operation: "TypedMap", errno: EINVAL, subject: map.name,
                           detail: "\(Key.self) is \(key) bytes and \(Value.self) \(value); the map's keys are \(map.keySize) bytes and values \(map.valueSize)")
        }
    }

    /// The value for `key`, or nil when absent.
    @inlinable
    public func lookup(_ key: Key, flags: Map.ElementFlags = []) throws(BPFError) -> Value? {
        try withUnsafeBytes(of: key) { keyBytes throws(BPFError) in
            try withUnsafeTemporaryAllocation(of: Value.self, capacity: 1) { buffer throws(BPFError) -> Value? in
                let raw = UnsafeMutableRawBufferPointer(buffer)
                guard try map.lookup(key: keyBytes, into: raw, flags: flags) else { return nil }
                return raw.load(as: Value.self)
            }
        }
    }

    /// Writes `value` for `key`.
    @inlinable
    public func update(_ key: Key, _ value: Value, flags: Map.ElementFlags = .any) throws(BPFError) {
        try withUnsafeBytes(of: key) { keyBytes throws(BPFError) in
            try withUnsafeBytes(of: value) { valueBytes throws(BPFError) in
                try map.update(key: keyBytes, value: valueBytes, flags: flags)
            }
        }
    }

    /// Deletes `key`; false when it was not there.
    @inlinable @discardableResult
    public func delete(_ key: Key) throws(BPFError) -> Bool {
        try withUnsafeBytes(of: key) { keyBytes throws(BPFError) in try map.delete(key: keyBytes) }
    }

    /// Copies and removes the value for `key`.
    public func lookupAndDelete(_ key: Key) throws(BPFError) -> Value? {
        try map.lookupAndDelete(key: Self.bytes(of: key)).map { Self.value(from: $0) }
    }

    /// Every key, each once (see `Map.KeyIterator`).
    public func keys() throws(BPFError) -> [Key] {
        try map.keys().map { Self.value(from: $0) }
    }

    /// Every key with its value.
    public func entries() throws(BPFError) -> [(key: Key, value: Value)] {
        try map.entries().map { (Self.value(from: $0.key), Self.value(from: $0.value)) }
    }

    // Queues, stacks and bloom filters, whose key is empty (use `Void` as `Key`).

    public func push(_ value: Value, flags: Map.ElementFlags = .any) throws(BPFError) {
        try map.push(Self.bytes(of: value), flags: flags)
    }

    public func pop() throws(BPFError) -> Value? { try map.pop().map { Self.value(from: $0) } }

    public func peek() throws(BPFError) -> Value? { try map.peek().map { Self.value(from: $0) } }

    public func mayContain(_ value: Value) throws(BPFError) -> Bool { try map.mayContain(Self.bytes(of: value)) }

    static func bytes<T: BitwiseCopyable>(of value: T) -> [UInt8] {
        byteArray(of: value)
    }

    /// Reads a `T` from bytes whose count was checked against its size.
    static func value<T: BitwiseCopyable>(from bytes: [UInt8]) -> T {
        bytes.withUnsafeBytes { $0.loadUnaligned(as: T.self) }
    }
}

/// A per-CPU map with Swift types: each key holds one `Value` per possible CPU.
public struct PerCPUMap<Key: BitwiseCopyable, Value: BitwiseCopyable>: Sendable {
    public let map: Map

    public init(_ map: Map) throws(BPFError) {
        guard map.isPerCPU else {
            throw BPFError(operation: "PerCPUMap", errno: EINVAL, subject: map.name,
                           detail: "\(map.type.kernelName) holds one value per key: use TypedMap")
        }
        try TypedMap<Key, Value>.checkSizes(map, key: MemoryLayout<Key>.size, value: MemoryLayout<Value>.size)
        self.map = map
    }

    /// How many values each key holds.
    public var cpuCount: Int { map.valueCount }

    /// The values for `key`, by CPU, or nil when absent.
    public func lookup(_ key: Key) throws(BPFError) -> [Value]? {
        try map.lookup(key: TypedMap<Key, Value>.bytes(of: key)).map(split)
    }

    /// Writes one value per possible CPU.
    public func update(_ key: Key, _ values: [Value], flags: Map.ElementFlags = .any) throws(BPFError) {
        guard values.count == map.valueCount else {
            throw BPFError(operation: "BPF_MAP_UPDATE_ELEM", errno: EINVAL, subject: map.name,
                           detail: "\(values.count) values given; the map holds one per possible CPU (\(map.valueCount))")
        }
        try map.update(key: TypedMap<Key, Value>.bytes(of: key), value: joined(values), flags: flags)
    }

    /// Writes the same value for every CPU.
    public func update(_ key: Key, everyCPU value: Value, flags: Map.ElementFlags = .any) throws(BPFError) {
        try update(key, [Value](repeating: value, count: map.valueCount), flags: flags)
    }

    @discardableResult
    public func delete(_ key: Key) throws(BPFError) -> Bool { try map.delete(key: TypedMap<Key, Value>.bytes(of: key)) }

    public func keys() throws(BPFError) -> [Key] { try map.keys().map { TypedMap<Key, Value>.value(from: $0) } }

    /// Every key with its values by CPU.
    public func entries() throws(BPFError) -> [(key: Key, values: [Value])] {
        try map.entries().map { (TypedMap<Key, Value>.value(from: $0.key), split($0.value)) }
    }

    /// The kernel's layout: CPU i's value at i × (value size rounded up to 8).
    func split(_ bytes: [UInt8]) -> [Value] {
        let stride = Map.perCPUStride(valueSize: map.valueSize)
        return bytes.withUnsafeBytes { buffer in
            (0..<map.valueCount).map { buffer.loadUnaligned(fromByteOffset: $0 * stride, as: Value.self) }
        }
    }

    func joined(_ values: [Value]) -> [UInt8] {
        let stride = Map.perCPUStride(valueSize: map.valueSize)
        var bytes = [UInt8](repeating: 0, count: map.valueBufferSize)
        bytes.withUnsafeMutableBytes { buffer in
            for (index, value) in values.enumerated() {
                buffer.storeBytes(of: value, toByteOffset: index * stride, as: Value.self)
            }
        }
        return bytes
    }
}
#endif
