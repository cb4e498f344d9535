import BPFObject

/// What the verifier needs to know of a map a program refers to.
public struct MapInfo: Hashable, Sendable {
    public var name: String
    public var type: MapType
    public var keySize: Int
    public var valueSize: Int
    public var maxEntries: Int
    private var innerStorage: [MapInfo]

    /// For an array or hash of maps: the map its lookups find (every inner map matches it).
    public var innerMap: MapInfo? {
        get { innerStorage.first }
        set { innerStorage = newValue.map { [$0] } ?? [] }
    }

    public init(name: String, type: MapType, keySize: Int, valueSize: Int, maxEntries: Int = 0, innerMap: MapInfo? = nil) {
        self.name = name
        self.type = type
        self.keySize = keySize
        self.valueSize = valueSize
        self.maxEntries = maxEntries
        self.innerStorage = innerMap.map { [$0] } ?? []
    }

    public init(_ spec: MapSpec) {
        self.init(name: spec.name, type: spec.type, keySize: Int(spec.keySize), valueSize: Int(spec.valueSize),
                  maxEntries: Int(spec.maxEntries), innerMap: spec.innerMap.map(MapInfo.init))
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
