import BPFInstructions

/// A parsed BTF type graph: a `.BTF` section, `/sys/kernel/btf/vmlinux`, or split BTF (a
/// kernel module's) whose ids and string offsets continue after its base's.
///
/// Parsing keeps types as compact records and names as string-table offsets; `type(_:)`
/// and `types` build the `BTFType` values on demand. A `BTF` is immutable, so copies are
/// cheap and it can be shared across tasks.
public struct BTF: Sendable {
    let storage: BTFStorage

    init(storage: BTFStorage) { self.storage = storage }

    public var byteOrder: ByteOrder { storage.order }
    /// The base of split BTF; nil for a standalone blob.
    public var base: BTF? { storage.base.map(BTF.init(storage:)) }
    /// The ids this blob defines itself: `1..<count` for standalone BTF, ids after the
    /// base's for split BTF.
    public var ownIDs: Range<BTFTypeID> { BTFTypeID(storage.firstID)..<BTFTypeID(storage.count) }
    /// Number of type ids, void (id 0) and the base's types included.
    public var count: Int { storage.count }
    /// Every type by id, void (id 0) and the base's types included.
    public var types: Types { Types(storage: storage) }
    /// The string table, the base's strings included.
    public var strings: BTFStringTable { storage.strings }
    /// The blob as given to `init(parsing:base:)`.
    public var bytes: [UInt8] { storage.bytes }

    /// The type with this id, or nil when there is none.
    public func type(_ id: BTFTypeID) -> BTFType? {
        guard let (owner, index) = storage.locate(id) else { return id == 0 ? BTFType(nameOffset: 0, body: .void) : nil }
        return owner.type(at: index)
    }

    /// The kind of the type with this id, without building the type.
    public func kind(of id: BTFTypeID) -> BTFKind? {
        guard let (owner, index) = storage.locate(id) else { return id == 0 ? .void : nil }
        return owner.records[index].kind
    }

    /// The type's name, or nil when it is anonymous or does not exist.
    public func name(of id: BTFTypeID) -> String? {
        guard let (owner, index) = storage.locate(id) else { return nil }
        let offset = owner.records[index].nameOffset
        return offset == 0 ? nil : strings.string(at: offset)
    }

    /// Follows typedefs, qualifiers (const, volatile, restrict) and type tags to the type
    /// they stand for. Nil when an id does not exist or the chain loops.
    public func resolved(_ id: BTFTypeID) -> BTFTypeID? {
        var id = id
        for _ in 0..<BTF.maximumResolveDepth {
            guard let (owner, index) = storage.locate(id) else { return id == 0 ? 0 : nil }
            let record = owner.records[index]
            switch record.kind {
            case .typedef, .volatile, .const, .restrict, .typeTag: id = record.sizeOrType
            default: return id
            }
        }
        return nil
    }

    /// The size in bytes of a value of this type, by the kernel's rules: ints, floats,
    /// enums, structs, unions and data sections have their own size; pointers are 8 bytes;
    /// arrays are count × element; typedefs, qualifiers, variables and tags have the size of
    /// what they refer to. Nil for types without a size (void, functions, prototypes,
    /// forward declarations), for loops, and for sizes above `UInt32.max`.
    public func size(of id: BTFTypeID) -> Int? {
        BTF.resolveSize(id) { id in
            guard let (owner, index) = storage.locate(id) else { return nil }
            let record = owner.records[index]
            return (record, record.kind == .array ? owner.arrays[Int(record.extra)] : nil)
        }
    }

    /// libbpf's `btf__resolve_size`, over any way of finding a type's record (and, for an
    /// array, its element type and count): `size(of:)` and the C header writer's flat table.
    static func resolveSize(_ id: BTFTypeID, lookup: (BTFTypeID) -> (BTFRecord, BTFArray?)?) -> Int? {
        var id = id
        var multiplier = 1
        for _ in 0..<BTF.maximumResolveDepth {
            guard id != 0, let (record, array) = lookup(id) else { return nil }
            switch record.kind {
            case .int, .struct, .union, .enum, .enum64, .dataSection, .float:
                let size = multiplier.multipliedReportingOverflow(by: Int(record.sizeOrType))
                return size.overflow || size.partialValue > Int(UInt32.max) ? nil : size.partialValue
            case .pointer:
                return multiplier > Int(UInt32.max) / BTF.pointerSize ? nil : multiplier * BTF.pointerSize
            case .typedef, .volatile, .const, .restrict, .variable, .declTag, .typeTag:
                id = record.sizeOrType
            case .array:
                guard let array else { return nil }
                let product = multiplier.multipliedReportingOverflow(by: Int(array.count))
                guard !product.overflow, product.partialValue <= Int(UInt32.max) else { return nil }
                multiplier = product.partialValue
                id = array.elementType
            case .void, .forward, .function, .functionPrototype:
                return nil
            }
        }
        return nil
    }

    /// Ids of the types with this name, in id order (base types first).
    public func ids(named name: String) -> [BTFTypeID] {
        var found: [BTFTypeID] = []
        var name = name
        name.withUTF8 { wanted in
            guard let first = wanted.first else { return }
            let chain = storage.chain
            // A linear scan, one string segment at a time, comparing bytes in place: no
            // index to build, and a record whose name differs fails on its first byte.
            for segment in strings.segments {
                segment.bytes.withUnsafeBufferPointer { bytes in
                    let lowest = segment.firstOffset
                    // Room for the name and its NUL inside the segment.
                    let limit = segment.firstOffset + segment.length - wanted.count
                    for owner in chain {
                        owner.records.withUnsafeBufferPointer { records in
                            for index in records.indices {
                                let offset = Int(records[index].nameOffset)
                                guard offset >= lowest, offset < limit else { continue }
                                let at = segment.start + offset - lowest
                                guard bytes[at] == first, bytes[at + wanted.count] == 0 else { continue }
                                var equal = true
                                for position in 1..<wanted.count where bytes[at + position] != wanted[position] {
                                    equal = false
                                    break
                                }
                                if equal { found.append(BTFTypeID(owner.firstID + index)) }
                            }
                        }
                    }
                }
            }
        }
        return found.sorted()
    }

    /// Ids of the types with this name and kind.
    public func ids(named name: String, kind: BTFKind) -> [BTFTypeID] {
        ids(named: name).filter { self.kind(of: $0) == kind }
    }

    /// Pointers are 64-bit in BPF programs and in the kernels that run them.
    public static let pointerSize = 8
    /// As libbpf: deeper chains are treated as loops.
    static let maximumResolveDepth = 32

    /// Every type by id; index 0 is void.
    public struct Types: RandomAccessCollection, Sendable {
        let storage: BTFStorage
        public var startIndex: Int { 0 }
        public var endIndex: Int { storage.count }
        /// The type with id `id`; void for an id outside `indices`, so that no id read
        /// from input can trap (parsing has checked every id the blob refers to).
        public subscript(id: Int) -> BTFType {
            guard id >= 0, id <= Int(UInt32.max), let (owner, index) = storage.locate(BTFTypeID(id)) else {
                return BTFType(nameOffset: 0, body: .void)
            }
            return owner.type(at: index)
        }
    }
}

/// A parsed blob. A class only so that split BTF can hold its base; never mutated.
final class BTFStorage: Sendable {
    let base: BTFStorage?
    let order: ByteOrder
    let bytes: [UInt8]
    /// The first id this blob defines (1, or the base's count).
    let firstID: Int
    let records: [BTFRecord]
    let members: [BTFMember]
    let parameters: [BTFParameter]
    let enumerators: [BTFEnumerator]
    let sectionVariables: [BTFDataSectionVariable]
    let arrays: [BTFArray]
    let strings: BTFStringTable

    init(
        base: BTFStorage?, order: ByteOrder, bytes: [UInt8], firstID: Int, records: [BTFRecord],
        members: [BTFMember], parameters: [BTFParameter], enumerators: [BTFEnumerator],
        sectionVariables: [BTFDataSectionVariable], arrays: [BTFArray], strings: BTFStringTable
    ) {
        self.base = base
        self.order = order
        self.bytes = bytes
        self.firstID = firstID
        self.records = records
        self.members = members
        self.parameters = parameters
        self.enumerators = enumerators
        self.sectionVariables = sectionVariables
        self.arrays = arrays
        self.strings = strings
    }

    var count: Int { firstID + records.count }

    /// This blob and its bases, base first.
    var chain: [BTFStorage] {
        var chain = [self]
        while let base = chain[0].base { chain.insert(base, at: 0) }
        return chain
    }

    /// The blob defining `id` and the index of its record there; nil for void and unknown ids.
    @inline(__always)
    func locate(_ id: BTFTypeID) -> (BTFStorage, Int)? {
        var storage = self
        let id = Int(id)
        while true {
            if id >= storage.firstID {
                let index = id - storage.firstID
                return index < storage.records.count ? (storage, index) : nil
            }
            guard let base = storage.base else { return nil }
            storage = base
        }
    }

    func type(at index: Int) -> BTFType {
        let record = records[index]
        let start = Int(record.extra)
        let vlen = Int(record.vlen)
        let body: BTFType.Body
        switch record.kind {
        case .void: body = .void
        case .int:
            let data = record.extra
            body = .int(BTFInt(
                size: record.sizeOrType, encoding: BTFInt.Encoding(rawValue: UInt8(truncatingIfNeeded: data >> 24) & 0x0f),
                bitOffset: UInt8(truncatingIfNeeded: data >> 16), bits: UInt8(truncatingIfNeeded: data)))
        case .pointer: body = .pointer(to: record.sizeOrType)
        case .array: body = .array(arrays[start])
        case .struct, .union:
            let composite = BTFComposite(
                size: record.sizeOrType, hasBitfieldSizes: record.kindFlag, members: members[start..<start + vlen])
            body = record.kind == .struct ? .struct(composite) : .union(composite)
        case .enum, .enum64:
            let values = BTFEnum(size: record.sizeOrType, isSigned: record.kindFlag, values: enumerators[start..<start + vlen])
            body = record.kind == .enum ? .enum(values) : .enum64(values)
        case .forward: body = .forward(record.kindFlag ? .union : .struct)
        case .typedef: body = .typedef(record.sizeOrType)
        case .volatile: body = .volatile(record.sizeOrType)
        case .const: body = .const(record.sizeOrType)
        case .restrict: body = .restrict(record.sizeOrType)
        case .typeTag: body = .typeTag(record.sizeOrType)
        case .function:
            body = .function(BTFFunction(type: record.sizeOrType, linkage: BTFLinkage(rawValue: UInt32(vlen)) ?? .static))
        case .functionPrototype:
            let all = parameters[start..<start + vlen]
            let isVariadic = all.last.map { $0.type == 0 } ?? false
            body = .functionPrototype(BTFFunctionPrototype(
                returnType: record.sizeOrType, parameters: isVariadic ? all.dropLast() : all, isVariadic: isVariadic))
        case .variable:
            body = .variable(BTFVariable(type: record.sizeOrType, linkage: BTFLinkage(rawValue: record.extra) ?? .static))
        case .dataSection:
            body = .dataSection(BTFDataSection(size: record.sizeOrType, variables: sectionVariables[start..<start + vlen]))
        case .float: body = .float(size: record.sizeOrType)
        case .declTag:
            let component = Int32(bitPattern: record.extra)
            body = .declTag(BTFDeclTag(type: record.sizeOrType, componentIndex: component == -1 ? nil : component))
        }
        return BTFType(nameOffset: record.nameOffset, body: body)
    }
}

/// One type as parsed: the `btf_type` header plus one word that is the int data, the
/// variable linkage, the decl tag's component index, or the start of the type's entries in
/// a flat list (members, parameters, values, section variables, arrays).
struct BTFRecord: Sendable {
    var nameOffset: UInt32
    var info: UInt32
    var sizeOrType: UInt32
    var extra: UInt32

    /// Only built from validated info words, whose kind is known.
    @inline(__always) var kind: BTFKind { BTFKind(rawValue: UInt8(truncatingIfNeeded: info >> 24) & 0x1f) ?? .void }
    @inline(__always) var vlen: UInt16 { UInt16(truncatingIfNeeded: info) }
    @inline(__always) var kindFlag: Bool { info >> 31 != 0 }
}
