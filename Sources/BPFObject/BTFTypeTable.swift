/// Every type of a `BTF` and its bases as flat arrays indexed by id, for walks over the
/// whole graph (the C header writer) that would otherwise look up the owning blob per step.
/// Split BTF is concatenated onto its base, with each record's list start moved along.
struct BTFTypeTable {
    /// `records[id - 1]` is type `id`; void (id 0) has no record.
    let records: [BTFRecord]
    let members: [BTFMember]
    let parameters: [BTFParameter]
    let enumerators: [BTFEnumerator]
    let arrays: [BTFArray]
    let strings: BTFStringTable

    init(_ btf: BTF) {
        let chain = btf.storage.chain
        strings = btf.strings
        if chain.count == 1 {
            // Standalone BTF: the parsed arrays as they are, no copy.
            let storage = btf.storage
            records = storage.records
            members = storage.members
            parameters = storage.parameters
            enumerators = storage.enumerators
            arrays = storage.arrays
            return
        }
        var records: [BTFRecord] = [], members: [BTFMember] = [], parameters: [BTFParameter] = []
        var enumerators: [BTFEnumerator] = [], arrays: [BTFArray] = []
        for storage in chain {
            for var record in storage.records {
                let shift: Int? = switch record.kind {
                case .struct, .union: members.count
                case .functionPrototype: parameters.count
                case .enum, .enum64: enumerators.count
                case .array: arrays.count
                default: nil
                }
                if let shift { record.extra = UInt32(truncatingIfNeeded: Int(record.extra) + shift) }
                records.append(record)
            }
            members += storage.members
            parameters += storage.parameters
            enumerators += storage.enumerators
            arrays += storage.arrays
        }
        self.records = records
        self.members = members
        self.parameters = parameters
        self.enumerators = enumerators
        self.arrays = arrays
    }

    /// Number of ids, void included.
    var count: Int { records.count + 1 }

    static let void = BTFRecord(nameOffset: 0, info: 0, sizeOrType: 0, extra: 0)

    /// The record of `id`; void's (kind `.void`) for 0 and for ids that do not exist, so
    /// that no id can trap.
    @inline(__always)
    func record(_ id: BTFTypeID) -> BTFRecord {
        let index = Int(id) - 1
        return index >= 0 && index < records.count ? records[index] : BTFTypeTable.void
    }

    /// The entries of a struct or union, prototype, enum: `start..<start + vlen` of the
    /// matching list, clamped to it (the parser built them in range).
    @inline(__always)
    func entries(of record: BTFRecord, in count: Int) -> Range<Int> {
        let start = min(Int(record.extra), count)
        return start..<min(start + Int(record.vlen), count)
    }

    func members(of record: BTFRecord) -> ArraySlice<BTFMember> { members[entries(of: record, in: members.count)] }
    func parameters(of record: BTFRecord) -> ArraySlice<BTFParameter> { parameters[entries(of: record, in: parameters.count)] }
    func enumerators(of record: BTFRecord) -> ArraySlice<BTFEnumerator> { enumerators[entries(of: record, in: enumerators.count)] }

    func array(of record: BTFRecord) -> BTFArray {
        let index = Int(record.extra)
        return index < arrays.count ? arrays[index] : BTFArray(elementType: 0, indexType: 0, count: 0)
    }
}

extension BTFTypeTable {
    /// `BTF.size(of:)` on the flat table (libbpf's `btf__resolve_size`).
    func size(of id: BTFTypeID) -> Int? {
        BTF.resolveSize(id) { id in
            let record = record(id)
            return (record, record.kind == .array ? array(of: record) : nil)
        }
    }
}
