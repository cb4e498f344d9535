/// A map as the object declares it: everything bpf(BPF_MAP_CREATE) needs, plus where the
/// declaration came from and the contents the loader writes after creating it.
public struct MapSpec: Sendable, Hashable {
    /// Where the map was declared.
    public enum Origin: Sendable, Hashable {
        /// A BTF-defined map in `.maps` (`__uint(type, ...)` and friends).
        case btf
        /// A `struct bpf_map_def` in the legacy `maps` section.
        case legacy
        /// A global-data section (`.data`, `.rodata`, `.bss`, `.data.*`, `.rodata.*`, `.bss.*`).
        case globalData
        /// The `.kconfig` map libbpf builds for `extern ... __kconfig` variables.
        case kconfig
        /// The inner-map template of an array- or hash-of-maps.
        case inner
    }

    /// libbpf's `pinning` values.
    public enum Pinning: UInt32, Sendable, Hashable {
        case none = 0
        /// Pinned at `<pin root>/<map name>` (`LIBBPF_PIN_BY_NAME`).
        case byName = 1
    }

    /// What a slot of `.values` in a map-in-map or program array refers to.
    public enum SlotTarget: Sendable, Hashable {
        case map(String)
        case program(String)
    }

    /// The name the kernel gets (`<object>.data` style for global-data maps).
    public var name: String
    /// The ELF section the map came from (".maps", "maps", ".rodata.str1.1", ...); for
    /// global-data maps this is libbpf's untruncated `real_name`.
    public var sectionName: String
    public var origin: Origin
    /// Byte offset of the definition in its section (0 for global-data maps).
    public var sectionOffset: Int
    public var type: MapType
    public var keySize: UInt32
    /// BTF type of the key (`__type(key, ...)`), when declared.
    public var keyTypeID: BTFTypeID?
    public var valueSize: UInt32
    /// BTF type of the value; for global-data maps, the section's DATASEC.
    public var valueTypeID: BTFTypeID?
    public var maxEntries: UInt32
    /// `map_flags` (`BPF_F_RDONLY_PROG`, `BPF_F_MMAPABLE`, `BPF_F_NO_PREALLOC`, ...).
    public var flags: UInt32
    public var numaNode: UInt32
    /// `map_extra` (bloom filter hash count, arena address).
    public var mapExtra: UInt64
    public var pinning: Pinning
    /// Initial value of global-data maps (zeros for `.bss` and `.kconfig`); nil for other maps.
    public var initialValue: [UInt8]?
    /// `.values = { [i] = &map_or_prog }` of map-in-maps and program arrays, by slot.
    public var initialSlots: [Int: SlotTarget]
    // A one-element array gives a struct a recursive optional member.
    private var innerStorage: [MapSpec]

    /// The template every inner map of an array- or hash-of-maps must match.
    public var innerMap: MapSpec? {
        get { innerStorage.first }
        set { innerStorage = newValue.map { [$0] } ?? [] }
    }

    public init(name: String, sectionName: String, origin: Origin, sectionOffset: Int = 0, type: MapType,
                keySize: UInt32 = 0, keyTypeID: BTFTypeID? = nil, valueSize: UInt32 = 0, valueTypeID: BTFTypeID? = nil,
                maxEntries: UInt32 = 0, flags: UInt32 = 0, numaNode: UInt32 = 0, mapExtra: UInt64 = 0,
                pinning: Pinning = .none, initialValue: [UInt8]? = nil, initialSlots: [Int: SlotTarget] = [:],
                innerMap: MapSpec? = nil) {
        self.name = name
        self.sectionName = sectionName
        self.origin = origin
        self.sectionOffset = sectionOffset
        self.type = type
        self.keySize = keySize
        self.keyTypeID = keyTypeID
        self.valueSize = valueSize
        self.valueTypeID = valueTypeID
        self.maxEntries = maxEntries
        self.flags = flags
        self.numaNode = numaNode
        self.mapExtra = mapExtra
        self.pinning = pinning
        self.initialValue = initialValue
        self.initialSlots = initialSlots
        self.innerStorage = innerMap.map { [$0] } ?? []
    }

    /// `map_flags` bits libbpf sets itself.
    public static let readOnlyProgramFlag: UInt32 = 1 << 7   // BPF_F_RDONLY_PROG
    public static let mmapableFlag: UInt32 = 1 << 10         // BPF_F_MMAPABLE
}
