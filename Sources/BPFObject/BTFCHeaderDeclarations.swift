/// C syntax for BTF types: definitions of structs, unions, enums and typedefs, and
/// declarators (`int (*handlers[4])(void *)`) built from chains of pointers, arrays,
/// qualifiers and prototypes, as libbpf's `btf_dump_emit_type_decl` writes them.
extension BTFCHeaderWriter {
    /// The name written after a declarator: a member's or parameter's, or a typedef's
    /// with its occurrence suffix.
    struct DeclaratorName {
        var offset: UInt32
        var occurrence: UInt32 = 1
    }

    // MARK: Definitions

    mutating func writeStructForward(_ id: BTFTypeID, _ record: BTFRecord) {
        write(record.kind == .union ? "union" : "struct")
        if record.nameOffset != 0 {
            write(" ")
            writeTypeName(id, record)
        }
    }

    mutating func writeStructDefinition(_ id: BTFTypeID, _ record: BTFRecord, level: Int) throws(BTFCHeaderError) {
        try enter(id)
        defer { depth -= 1 }
        let isStruct = record.kind == .struct
        let alignment = alignment(of: id)
        let packed = isStruct && isPacked(record)
        writeStructForward(id, record)
        write(" {")
        var offset = 0
        var previousWasBitfield = false
        let members = table.members(of: record)
        for member in members {
            let bits = record.kindFlag ? Int(member.bitfieldSize) : 0
            let memberOffset = Int(member.bitOffset)
            let memberAlignment = packed ? 1 : self.alignment(of: member.type)
            try writeBitPadding(from: offset, to: memberOffset, nextAlignment: memberAlignment,
                                inBitfield: previousWasBitfield && bits != 0, level: level + 1, typeID: id)
            write("\n")
            writeIndent(level + 1)
            try writeDeclaration(member.type, name: DeclaratorName(offset: member.nameOffset), level: level + 1)
            if bits != 0 {
                write(": ")
                writeNumber(UInt64(bits))
                offset = memberOffset + bits
                previousWasBitfield = true
            } else {
                offset = memberOffset + (table.size(of: member.type) ?? 0) * 8
                previousWasBitfield = false
            }
            write(";")
        }
        if isStruct {
            try writeBitPadding(from: offset, to: Int(record.sizeOrType) * 8, nextAlignment: alignment,
                                inBitfield: false, level: level + 1, typeID: id)
        }
        // `struct empty {}` stays on one line.
        if !members.isEmpty || record.sizeOrType != 0 {
            write("\n")
            writeIndent(level)
        }
        write("}")
        if packed { write(" __attribute__((packed))") }
    }

    mutating func writeEnumDefinition(_ id: BTFTypeID, _ record: BTFRecord, level: Int) {
        write("enum")
        if record.nameOffset != 0 {
            write(" ")
            writeTypeName(id, record)
        }
        let values = table.enumerators(of: record)
        guard !values.isEmpty else { return }
        write(" {")
        let is64 = record.kind == .enum64
        let isSigned = record.kindFlag
        for value in values {
            write("\n")
            writeIndent(level + 1)
            writeString(at: value.nameOffset)
            // Enumerators share the identifier namespace with typedefs.
            let occurrence = countOccurrence(of: value.nameOffset, identifiers: true)
            if occurrence > 1 {
                write("___")
                writeNumber(UInt64(occurrence))
            }
            write(" = ")
            if isSigned {
                writeSigned(is64 ? value.signedValue : Int64(Int32(truncatingIfNeeded: value.bitPattern)))
            } else {
                writeNumber(is64 ? value.unsignedValue : UInt64(UInt32(truncatingIfNeeded: value.bitPattern)))
            }
            if is64 { write(isSigned ? "LL" : "ULL") }
            write(",")
        }
        write("\n")
        writeIndent(level)
        write("}")
        // Sizes C would not pick on its own.
        if record.sizeOrType == 1 {
            write(" __attribute__((mode(byte)))")
        } else if record.sizeOrType == 8 {
            // An enum64 with a value above 32 bits is 8 bytes anyway.
            let needsWordMode = !is64 || values.allSatisfy { $0.bitPattern >> 32 == 0 }
            if needsWordMode { write(" __attribute__((mode(word)))") }
        }
    }

    mutating func writeEnumForward(_ id: BTFTypeID, _ record: BTFRecord) {
        write("enum ")
        writeTypeName(id, record)
    }

    mutating func writeForwardDefinition(_ id: BTFTypeID, _ record: BTFRecord) {
        write(record.kindFlag ? "union " : "struct ")
        writeTypeName(id, record)
    }

    mutating func writeTypedefDefinition(_ id: BTFTypeID, _ record: BTFRecord, level: Int) throws(BTFCHeaderError) {
        let occurrence = resolveName(id, record, identifiers: true)
        // Old GCCs describe `__gnuc_va_list` as a typedef of void.
        if record.sizeOrType == 0 && table.strings.string(at: record.nameOffset, equals: "__gnuc_va_list") {
            write("typedef __builtin_va_list __gnuc_va_list")
            return
        }
        write("typedef ")
        try writeDeclaration(record.sizeOrType, name: DeclaratorName(offset: record.nameOffset, occurrence: occurrence), level: level)
    }

    /// GCC's Arm SIMD typedefs name internal types that clang lacks.
    mutating func writeMissingAlias(_ id: BTFTypeID, _ record: BTFRecord) {
        let occurrence = resolveName(id, record, identifiers: false)
        guard record.nameOffset != 0, let name = table.strings.string(at: record.nameOffset) else { return }
        let alias: StaticString
        switch name {
        case "__Poly8_t": alias = "unsigned char"
        case "__Poly16_t": alias = "unsigned short"
        case "__Poly64_t": alias = "unsigned long long"
        case "__Poly128_t": alias = "unsigned __int128"
        default: return
        }
        write("typedef ")
        write(alias)
        write(" ")
        writeString(at: record.nameOffset)
        if occurrence > 1 {
            write("___")
            writeNumber(UInt64(occurrence))
        }
        write(";\n\n")
    }

    // MARK: Declarators

    /// Writes a declaration of `name` with type `id`: the chain from `id` through pointers,
    /// arrays, qualifiers and prototypes to a named or inline-defined type.
    mutating func writeDeclaration(_ id: BTFTypeID, name: DeclaratorName, level: Int) throws(BTFCHeaderError) {
        let start = declarationStack.count
        defer { declarationStack.removeLast(declarationStack.count - start) }
        var current = id
        chain: while true {
            declarationStack.append(current)
            if current == 0 { break }
            if declarationStack.count - start > BTFCHeaderWriter.maximumDepth {
                throw BTFCHeaderError(.nestingTooDeep, typeID: id)
            }
            let record = table.record(current)
            switch record.kind {
            case .pointer, .volatile, .const, .restrict, .functionPrototype, .typeTag: current = record.sizeOrType
            case .array: current = table.array(of: record).elementType
            default: break chain
            }
        }
        var remaining = declarationStack.count - start
        try writeChain(start: start, remaining: &remaining, name: name, level: level)
    }

    /// Writes the chain `declarationStack[start..<start + remaining]` from its end (the
    /// named type) back to its start (the outermost declarator), consuming it. C puts
    /// qualifiers of a pointer after the `*` but those of a base type before it, and
    /// wraps pointers to arrays and functions in parentheses.
    private mutating func writeChain(start: Int, remaining: inout Int, name: DeclaratorName, level: Int) throws(BTFCHeaderError) {
        try enter(0)
        defer { depth -= 1 }
        // `int ***`, not `int * * *`; and `(*name)` for a lone pointer to a function.
        var lastWasPointer = true
        while remaining > 0 {
            remaining -= 1
            let id = declarationStack[start + remaining]
            if id == 0 {
                writeModifiers(start: start, remaining: &remaining)
                write("void")
                lastWasPointer = false
                continue
            }
            let record = table.record(id)
            switch record.kind {
            case .int, .float:
                writeModifiers(start: start, remaining: &remaining)
                writeString(at: record.nameOffset)
            case .struct, .union:
                writeModifiers(start: start, remaining: &remaining)
                if record.nameOffset == 0 {
                    try writeStructDefinition(id, record, level: level)
                } else {
                    writeStructForward(id, record)
                }
            case .enum, .enum64:
                writeModifiers(start: start, remaining: &remaining)
                if record.nameOffset == 0 {
                    writeEnumDefinition(id, record, level: level)
                } else {
                    writeEnumForward(id, record)
                }
            case .forward:
                writeModifiers(start: start, remaining: &remaining)
                writeForwardDefinition(id, record)
            case .typedef:
                writeModifiers(start: start, remaining: &remaining)
                let occurrence = resolveName(id, record, identifiers: true)
                writeName(DeclaratorName(offset: record.nameOffset, occurrence: occurrence))
            case .pointer:
                write(lastWasPointer ? "*" : " *")
            case .volatile:
                write(" volatile")
            case .const:
                write(" const")
            case .restrict:
                write(" restrict")
            case .typeTag:
                writeModifiers(start: start, remaining: &remaining)
                // The kind_flag marks a plain attribute (`address_space(1)`), not a tag.
                write(record.kindFlag ? " __attribute__((" : " __attribute__((btf_type_tag(\"")
                writeString(at: record.nameOffset)
                write(record.kindFlag ? "))" : "\")))")
            case .array:
                // Qualifiers on an array (a GCC quirk) mean nothing; drop them.
                dropModifiers(start: start, remaining: &remaining)
                let count = UInt64(table.array(of: record).count)
                if remaining == 0 {
                    writeName(name, separated: !lastWasPointer)
                    writeArrayBound(count)
                    return
                }
                let isMultidimensional = table.record(declarationStack[start + remaining - 1]).kind == .array
                if !isEmpty(name) && !lastWasPointer { write(" ") }
                if !isMultidimensional { write("(") }
                try writeChain(start: start, remaining: &remaining, name: name, level: level)
                if !isMultidimensional { write(")") }
                writeArrayBound(count)
                return
            case .functionPrototype:
                // GCC's volatile on noreturn function pointers, likewise.
                dropModifiers(start: start, remaining: &remaining)
                if remaining > 0 {
                    write(" (")
                    try writeChain(start: start, remaining: &remaining, name: name, level: level)
                    write(")")
                } else {
                    writeName(name, separated: !lastWasPointer)
                }
                write("(")
                let parameters = table.parameters(of: record)
                // clang writes `f(void)` as one void parameter.
                if parameters.isEmpty || (parameters.count == 1 && parameters.first?.type == 0) {
                    write("void)")
                    return
                }
                for (index, parameter) in zip(parameters.indices, parameters) {
                    if index > parameters.startIndex { write(", ") }
                    // A trailing void parameter is `...`.
                    if index == parameters.endIndex - 1 && parameter.type == 0 {
                        write("...")
                        break
                    }
                    try writeDeclaration(parameter.type, name: DeclaratorName(offset: parameter.nameOffset), level: level)
                }
                write(")")
                return
            default:
                // Functions, variables and the like are not part of declarators.
                return
            }
            lastWasPointer = record.kind == .pointer
        }
        writeName(name, separated: !lastWasPointer)
    }

    /// Qualifiers directly above a base type go before it: `const char *`.
    private mutating func writeModifiers(start: Int, remaining: inout Int) {
        while remaining > 0 {
            switch table.record(declarationStack[start + remaining - 1]).kind {
            case .volatile: write("volatile ")
            case .const: write("const ")
            case .restrict: write("restrict ")
            default: return
            }
            remaining -= 1
        }
    }

    private mutating func dropModifiers(start: Int, remaining: inout Int) {
        while remaining > 0 {
            let id = declarationStack[start + remaining - 1]
            guard id != 0 else { return }
            switch table.record(id).kind {
            case .volatile, .const, .restrict, .typeTag: remaining -= 1
            default: return
            }
        }
    }

    private mutating func writeArrayBound(_ count: UInt64) {
        write("[")
        writeNumber(count)
        write("]")
    }

    // MARK: Names

    func isEmpty(_ name: DeclaratorName) -> Bool {
        name.offset == 0 || (table.strings.withUTF8(at: name.offset) { $0.isEmpty } ?? true)
    }

    private mutating func writeName(_ name: DeclaratorName, separated: Bool) {
        guard !isEmpty(name) else { return }
        if separated { write(" ") }
        writeName(name)
    }

    mutating func writeName(_ name: DeclaratorName) {
        writeString(at: name.offset)
        if name.occurrence > 1 {
            write("___")
            writeNumber(UInt64(name.occurrence))
        }
    }

    /// A struct, union, enum or forward declaration's name, with its occurrence suffix.
    mutating func writeTypeName(_ id: BTFTypeID, _ record: BTFRecord) {
        let occurrence = resolveName(id, record, identifiers: false)
        writeName(DeclaratorName(offset: record.nameOffset, occurrence: occurrence))
    }

    /// The occurrence number of the type's name, counted the first time it is asked for:
    /// the second `struct foo` in the BTF becomes `foo___2`. Forward declarations and
    /// empty enums only name another type, so they are not counted.
    mutating func resolveName(_ id: BTFTypeID, _ record: BTFRecord, identifiers: Bool) -> UInt32 {
        guard record.nameOffset != 0, Int(id) < nameOccurrence.count else { return 1 }
        let known = nameOccurrence[Int(id)]
        if known != 0 { return known }
        var occurrence: UInt32 = 1
        if !(record.kind == .forward || (record.kind == .enum && record.vlen == 0)) {
            occurrence = countOccurrence(of: record.nameOffset, identifiers: identifiers)
        }
        nameOccurrence[Int(id)] = occurrence
        return occurrence
    }

    mutating func countOccurrence(of offset: UInt32, identifiers: Bool) -> UInt32 {
        let name = table.strings.string(at: offset) ?? ""
        if identifiers {
            let occurrence = identifierNames[name, default: 0] &+ 1
            identifierNames[name] = occurrence
            return occurrence
        }
        let occurrence = typeNames[name, default: 0] &+ 1
        typeNames[name] = occurrence
        return occurrence
    }
}
