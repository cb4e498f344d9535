import BPFObject

/// What the verifier needs to know of a map a program refers to.
public struct MapInfo: Hashable, Sendable {
    public var name: String
    public var type: MapType
    public var keySize: Int
    public var valueSize: Int
    public var maxEntries: Int
    /// Where the value's `struct bpf_spin_lock` is, from the map's BTF; bpf_spin_lock takes
    /// only that one, and the program may not touch its bytes otherwise.
    public var spinLockOffset: Int?
    private var innerStorage: [MapInfo]

    /// For an array or hash of maps: the map its lookups find (every inner map matches it).
    public var innerMap: MapInfo? {
        get { innerStorage.first }
        set { innerStorage = newValue.map { [$0] } ?? [] }
    }

    public init(name: String, type: MapType, keySize: Int, valueSize: Int, maxEntries: Int = 0, innerMap: MapInfo? = nil,
                spinLockOffset: Int? = nil) {
        self.name = name
        self.spinLockOffset = spinLockOffset
        self.type = type
        self.keySize = keySize
        self.valueSize = valueSize
        self.maxEntries = maxEntries
        self.innerStorage = innerMap.map { [$0] } ?? []
    }

    /// A map of an object; `btf`, the object's, says where a value holds a spin lock.
    public init(_ spec: MapSpec, btf: BTF? = nil) {
        self.init(name: spec.name, type: spec.type, keySize: Int(spec.keySize), valueSize: Int(spec.valueSize),
                  maxEntries: Int(spec.maxEntries), innerMap: spec.innerMap.map { MapInfo($0, btf: btf) },
                  spinLockOffset: btf.flatMap { btf in spec.valueTypeID.flatMap { Self.spinLockOffset(in: $0, btf) } })
    }

    /// The byte offset of a member of type `struct bpf_spin_lock` of the struct `id` (the
    /// kernel looks at the value's own members).
    private static func spinLockOffset(in id: BTFTypeID, _ btf: BTF) -> Int? {
        guard let resolved = btf.resolved(id), case .struct(let composite)? = btf.type(resolved)?.body else { return nil }
        for member in composite.members {
            guard let type = btf.resolved(member.type), btf.kind(of: type) == .struct, btf.name(of: type) == "bpf_spin_lock"
            else { continue }
            return Int(member.bitOffset / 8)
        }
        return nil
    }

    var holdsMaps: Bool { type == .arrayOfMaps || type == .hashOfMaps }

    /// Whether a lookup of `key` always finds a value (an array's index inside it), so that
    /// the result needs no NULL check, as the kernel decides since 6.14.
    func alwaysHasValue(forKey key: UInt64?) -> Bool {
        guard let key, type == .array || type == .perCPUArray else { return false }
        return key < UInt64(maxEntries)
    }

    /// Whether a lookup returns a value the program may read and write.
    var hasValues: Bool {
        switch type {
        case .programArray, .perfEventArray, .ringBuffer, .stackTrace, .cgroupArray, .arrayOfMaps, .hashOfMaps,
             .deviceMap, .socketMap, .cpuMap, .xdpSocketMap, .socketHash, .userRingBuffer, .queue, .stack,
             .bloomFilter, .reuseportSocketArray, .deviceMapHash:
            false
        default: true
        }
    }
}
