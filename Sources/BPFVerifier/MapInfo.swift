import BPFObject

/// What the verifier needs to know of a map a program refers to.
public struct MapInfo: Hashable, Sendable {
    public var name: String
    public var type: MapType
    public var keySize: Int
    public var valueSize: Int

    public init(name: String, type: MapType, keySize: Int, valueSize: Int) {
        self.name = name
        self.type = type
        self.keySize = keySize
        self.valueSize = valueSize
    }

    public init(_ spec: MapSpec) {
        self.init(name: spec.name, type: spec.type, keySize: Int(spec.keySize), valueSize: Int(spec.valueSize))
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
