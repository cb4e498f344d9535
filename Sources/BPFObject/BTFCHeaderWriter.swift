/// Writes BTF types as C declarations by libbpf's `btf_dump` rules, in two passes per
/// type: order its dependencies so that everything embedded by value is defined first,
/// then write them, adding forward declarations where a pointer closes a cycle.
/// Declarator syntax, definitions and layout are in the other `BTFCHeader*` files.
struct BTFCHeaderWriter {
    let table: BTFTypeTable
    var output: [UInt8] = []

    // Per-type state, indexed by id.
    var orderState: [OrderState]
    var emitState: [EmitState]
    /// A forward declaration (for a typedef: its definition) has been written.
    var forwardEmitted: [Bool]
    /// Some other type refers to it: an anonymous enum nothing refers to is a top-level
    /// constant list and is written on its own.
    var referenced: [Bool]
    /// 0 until the name is resolved, then the occurrence number (1 = first, n > 1 is
    /// written with a `___n` suffix).
    var nameOccurrence: [UInt32]
    /// Alignment memo: -1 unknown, -2 being computed, else the alignment (0 = none).
    var alignments: [Int32]

    /// Occurrences of struct, union and enum names, and of typedef and enumerator names
    /// (which share C's ordinary identifier namespace).
    var typeNames: [String: UInt32] = [:]
    var identifierNames: [String: UInt32] = [:]

    /// Types `dump` found to write, in order.
    var emitQueue: [BTFTypeID] = []
    /// The declarator chains being written; each `declaration` call owns the part it pushed.
    var declarationStack: [BTFTypeID] = []
    /// Current recursion depth, bounded so that malformed graphs cannot exhaust the stack.
    var depth = 0

    enum OrderState: UInt8 { case notOrdered, ordering, ordered }
    enum EmitState: UInt8 { case notEmitted, emitting, emitted }

    /// Deeper than any C type nests; type loops end here with an error.
    static let maximumDepth = 256

    init(_ btf: BTF) {
        table = BTFTypeTable(btf)
        let count = table.count
        orderState = Array(repeating: .notOrdered, count: count)
        emitState = Array(repeating: .notEmitted, count: count)
        forwardEmitted = Array(repeating: false, count: count)
        referenced = Array(repeating: false, count: count)
        nameOccurrence = Array(repeating: 0, count: count)
        alignments = Array(repeating: -1, count: count)
        orderState[0] = .ordered
        emitState[0] = .emitted
        output.reserveCapacity(btf.storage.bytes.count / 2 + 4096)
        markReferenced()
    }

    private mutating func markReferenced() {
        for index in table.records.indices {
            let record = table.records[index]
            switch record.kind {
            case .volatile, .const, .restrict, .pointer, .typedef, .function, .variable, .declTag, .typeTag:
                mark(record.sizeOrType)
            case .array:
                let array = table.array(of: record)
                mark(array.indexType)
                mark(array.elementType)
            case .struct, .union:
                for member in table.members(of: record) { mark(member.type) }
            case .functionPrototype:
                for parameter in table.parameters(of: record) { mark(parameter.type) }
            default:
                // Section variables refer to variables only, which no rule here asks about.
                break
            }
        }
    }

    @inline(__always)
    private mutating func mark(_ id: BTFTypeID) {
        if Int(id) < referenced.count { referenced[Int(id)] = true }
    }

    /// Writes `id` and every type it needs that is not written yet (`btf_dump__dump_type`).
    mutating func dump(_ id: BTFTypeID) throws(BTFCHeaderError) {
        emitQueue.removeAll(keepingCapacity: true)
        _ = try order(id, throughPointer: false)
        var index = 0
        while index < emitQueue.count {
            try emit(emitQueue[index], container: 0)
            index += 1
        }
    }

    @inline(__always)
    mutating func enter(_ id: BTFTypeID) throws(BTFCHeaderError) {
        depth += 1
        if depth > BTFCHeaderWriter.maximumDepth { throw BTFCHeaderError(.nestingTooDeep, typeID: id) }
    }

    // MARK: Ordering

    /// Puts the types `id` needs defined before it on the emit queue, depth first
    /// (`btf_dump_order_type`). Returns whether the link to `id` is strong: whether it must
    /// be fully defined (embedded by value, or anonymous and so written inline) rather
    /// than merely declared, which a pointer to a named type allows.
    mutating func order(_ id: BTFTypeID, throughPointer: Bool) throws(BTFCHeaderError) -> Bool {
        let slot = Int(id)
        guard slot < orderState.count else { return false }
        if orderState[slot] == .ordered { return true }
        let record = table.record(id)
        let kind = record.kind
        if orderState[slot] == .ordering {
            // A loop through a pointer to a named record is what forward declarations are for.
            if (kind == .struct || kind == .union) && throughPointer && record.nameOffset != 0 { return false }
            throw BTFCHeaderError(.unsatisfiableCycle, typeID: id)
        }
        try enter(id)
        defer { depth -= 1 }

        switch kind {
        case .int, .float:
            orderState[slot] = .ordered
            return false
        case .pointer:
            let strong = try order(record.sizeOrType, throughPointer: true)
            orderState[slot] = .ordered
            return strong
        case .array:
            return try order(table.array(of: record).elementType, throughPointer: false)
        case .struct, .union:
            if throughPointer && record.nameOffset != 0 { return false }
            orderState[slot] = .ordering
            for member in table.members(of: record) {
                _ = try order(member.type, throughPointer: false)
            }
            if record.nameOffset != 0 { emitQueue.append(id) }
            orderState[slot] = .ordered
            return true
        case .enum, .enum64, .forward:
            if record.nameOffset != 0 || !referenced[slot] { emitQueue.append(id) }
            orderState[slot] = .ordered
            return true
        case .typedef:
            let strong = try order(record.sizeOrType, throughPointer: throughPointer)
            if throughPointer && !strong { return false }
            emitQueue.append(id)
            orderState[slot] = .ordered
            return true
        case .volatile, .const, .restrict, .typeTag:
            return try order(record.sizeOrType, throughPointer: throughPointer)
        case .functionPrototype:
            var strong = try order(record.sizeOrType, throughPointer: throughPointer)
            for parameter in table.parameters(of: record) {
                if try order(parameter.type, throughPointer: throughPointer) { strong = true }
            }
            return strong
        case .function, .variable, .dataSection, .declTag:
            orderState[slot] = .ordered
            return false
        case .void:
            return true
        }
    }

    // MARK: Emitting

    /// Writes `id` if it is a definition not written yet, after what it refers to
    /// (`btf_dump_emit_type`). `container` is the struct or union being defined around it
    /// (0 at top level): a reference back to it needs no forward declaration.
    mutating func emit(_ id: BTFTypeID, container: BTFTypeID) throws(BTFCHeaderError) {
        let slot = Int(id)
        guard slot < emitState.count, emitState[slot] != .emitted else { return }
        let record = table.record(id)
        let kind = record.kind

        if emitState[slot] == .emitting {
            // Reached again while being written: a cycle, which a declaration breaks.
            if forwardEmitted[slot] { return }
            switch kind {
            case .struct, .union:
                // Anonymous loops cannot be declared; libbpf warns and goes on.
                if id == container || record.nameOffset == 0 { return }
                writeStructForward(id, record)
                write(";\n\n")
                forwardEmitted[slot] = true
            case .typedef:
                // A typedef can stand in for a declaration where only pointers use it.
                if !isBlockedTypedef(record) {
                    try writeTypedefDefinition(id, record, level: 0)
                    write(";\n\n")
                }
                forwardEmitted[slot] = true
            default:
                break
            }
            return
        }
        try enter(id)
        defer { depth -= 1 }

        switch kind {
        case .int:
            writeMissingAlias(id, record)
            emitState[slot] = .emitted
        case .enum, .enum64:
            if container == 0 {
                writeEnumDefinition(id, record, level: 0)
                write(";\n\n")
            }
            emitState[slot] = .emitted
        case .pointer, .volatile, .const, .restrict, .typeTag:
            try emit(record.sizeOrType, container: container)
        case .array:
            try emit(table.array(of: record).elementType, container: container)
        case .forward:
            writeForwardDefinition(id, record)
            write(";\n\n")
            emitState[slot] = .emitted
        case .typedef:
            emitState[slot] = .emitting
            try emit(record.sizeOrType, container: id)
            if !forwardEmitted[slot] && !isBlockedTypedef(record) {
                try writeTypedefDefinition(id, record, level: 0)
                write(";\n\n")
            }
            emitState[slot] = .emitted
        case .struct, .union:
            emitState[slot] = .emitting
            let isTopLevel = container == 0
            let isAnonymous = record.nameOffset == 0
            // A definition (top level, or anonymous and so written inline) spells out every
            // member's type: those need declaring first.
            if isTopLevel || isAnonymous {
                let inner = isAnonymous ? container : id
                for member in table.members(of: record) { try emit(member.type, container: inner) }
            } else if !forwardEmitted[slot] && id != container {
                writeStructForward(id, record)
                write(";\n\n")
                forwardEmitted[slot] = true
            }
            if isTopLevel {
                try writeStructDefinition(id, record, level: 0)
                write(";\n\n")
                emitState[slot] = .emitted
            } else {
                emitState[slot] = .notEmitted
            }
        case .functionPrototype:
            try emit(record.sizeOrType, container: container)
            for parameter in table.parameters(of: record) { try emit(parameter.type, container: container) }
        default:
            break
        }
    }

    /// `__builtin_va_list` is the compiler's own; redefining it breaks the build.
    func isBlockedTypedef(_ record: BTFRecord) -> Bool {
        record.nameOffset != 0 && table.strings.string(at: record.nameOffset, equals: "__builtin_va_list")
    }
}
