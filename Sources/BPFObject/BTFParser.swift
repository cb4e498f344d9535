import BPFInstructions

extension BTF {
    /// Parses a BTF blob in either byte order (told by the magic). `base` is the BTF that
    /// split BTF (a kernel module's, in `/sys/kernel/btf/<module>`) builds on; its type ids
    /// and string offsets continue after the base's.
    ///
    /// Checks the header, both sections' bounds, every type's kind, vlen, kind_flag and
    /// fixed fields, every name offset, and that every type id referred to exists.
    public init(parsing bytes: [UInt8], base: BTF? = nil) throws(BTFError) {
        let header = try BTFHeader(parsing: bytes)
        let baseStorage = base?.storage
        let strings = try BTFParser.stringTable(bytes, header: header, base: baseStorage)
        var parser = BTFParser(
            order: header.order, firstID: baseStorage?.count ?? 1, stringCount: UInt32(clamping: strings.count))
        try parser.parseTypes(bytes, start: header.typeStart, length: header.typeLength)
        self.init(storage: BTFStorage(
            base: baseStorage, order: header.order, bytes: bytes, firstID: parser.firstID, records: parser.records,
            members: parser.members, parameters: parser.parameters, enumerators: parser.enumerators,
            sectionVariables: parser.sectionVariables, arrays: parser.arrays, strings: strings))
    }

    /// Fuzzing entry point: parses `bytes` as BTF, and as split BTF on top of what parsed,
    /// and walks the result, down to writing it as a C header. Must only ever return.
    public static func fuzz(_ bytes: [UInt8]) {
        guard let btf = try? BTF(parsing: bytes) else { return }
        for id in 0..<BTFTypeID(btf.count) {
            _ = btf.type(id)
            _ = btf.name(of: id)
            _ = btf.resolved(id)
            _ = btf.size(of: id)
            _ = btf.rawDump(of: id)
        }
        _ = btf.ids(named: "int")
        _ = try? btf.cHeaderBytes()
        _ = try? BTF(parsing: bytes, base: btf)
    }
}

/// The 24-byte `btf_header`, checked.
struct BTFHeader {
    static let magic: UInt16 = 0xeb9f
    static let knownLength = 24

    var order: ByteOrder
    var typeStart: Int
    var typeLength: Int
    var stringStart: Int
    var stringLength: Int

    init(parsing bytes: [UInt8]) throws(BTFError) {
        do {
            var reader = ByteReader(bytes, order: .little)
            let magic = try reader.u16(at: 0)
            if magic == BTFHeader.magic {
                order = .little
            } else if magic == BTFHeader.magic.byteSwapped {
                order = .big
            } else {
                throw BTFError(.badMagic(magic), offset: 0)
            }
            reader.order = order
            try reader.check(0, BTFHeader.knownLength)
            let version = try reader.u8(at: 2)
            guard version == 1 else { throw BTFError(.unsupportedVersion(version), offset: 2) }
            let flags = try reader.u8(at: 3)
            guard flags == 0 else { throw BTFError(.unsupportedFlags(flags), offset: 3) }
            let headerLength = try reader.u32(at: 4)
            guard headerLength >= BTFHeader.knownLength, Int(headerLength) <= bytes.count else {
                throw BTFError(.badHeaderLength(headerLength), offset: 4)
            }
            // A longer header from a newer kernel is fine only if what we don't know is zero.
            for offset in BTFHeader.knownLength..<Int(headerLength) where bytes[offset] != 0 {
                throw BTFError(.badHeaderLength(headerLength), offset: offset)
            }
            let typeOffset = try reader.u32(at: 8), typeLength = try reader.u32(at: 12)
            let stringOffset = try reader.u32(at: 16), stringLength = try reader.u32(at: 20)
            let available = bytes.count - Int(headerLength)
            guard typeOffset % 4 == 0, Int(typeOffset) + Int(typeLength) <= available else {
                throw BTFError(.badSectionBounds(section: "type", offset: typeOffset, length: typeLength), offset: 8)
            }
            guard Int(stringOffset) + Int(stringLength) <= available,
                  typeLength == 0 || stringLength == 0 || Int(typeOffset) + Int(typeLength) <= Int(stringOffset)
                    || Int(stringOffset) + Int(stringLength) <= Int(typeOffset)
            else {
                throw BTFError(.badSectionBounds(section: "string", offset: stringOffset, length: stringLength), offset: 16)
            }
            typeStart = Int(headerLength) + Int(typeOffset)
            self.typeLength = Int(typeLength)
            stringStart = Int(headerLength) + Int(stringOffset)
            self.stringLength = Int(stringLength)
        } catch let error as ByteReader.OutOfBounds {
            throw BTFError(error)
        } catch let error as BTFError {
            throw error
        } catch {
            throw BTFError(.truncated(needed: BTFHeader.knownLength, available: bytes.count), offset: 0)
        }
    }
}

/// The type-section walk. Reads go through a raw pointer for speed, each preceded by a
/// bounds check against the section's end.
struct BTFParser {
    /// `BTF_MAX_TYPE`: type ids are 20 bits wide in the kernel.
    static let maximumTypeCount = 0x10_0000
    /// `BTF_MAX_NAME_OFFSET`.
    static let maximumStringLength = 0x100_0000

    let order: ByteOrder
    let firstID: Int
    let stringCount: UInt32
    var records: [BTFRecord] = []
    var members: [BTFMember] = []
    var parameters: [BTFParameter] = []
    var enumerators: [BTFEnumerator] = []
    var sectionVariables: [BTFDataSectionVariable] = []
    var arrays: [BTFArray] = []

    init(order: ByteOrder, firstID: Int, stringCount: UInt32) {
        self.order = order
        self.firstID = firstID
        self.stringCount = stringCount
    }

    static func stringTable(_ bytes: [UInt8], header: BTFHeader, base: BTFStorage?) throws(BTFError) -> BTFStringTable {
        let start = header.stringStart, length = header.stringLength
        var segments = base?.strings.segments ?? []
        let firstOffset = base?.strings.count ?? 0
        if length == 0 {
            // Split BTF may add no strings; standalone BTF needs at least the empty name.
            guard base != nil else { throw BTFError(.badStringTable, offset: start) }
            return BTFStringTable(segments: segments)
        }
        guard length <= maximumStringLength, bytes[start + length - 1] == 0 else {
            throw BTFError(.badStringTable, offset: start + length - 1)
        }
        guard base != nil || bytes[start] == 0 else { throw BTFError(.badStringTable, offset: start) }
        segments.append(.init(bytes: bytes, start: start, length: length, firstOffset: firstOffset))
        return BTFStringTable(segments: segments)
    }

    /// Sizes of each list, so that the second pass fills arrays reserved exactly once.
    private struct Counts {
        var types = 0, members = 0, parameters = 0, enumerators = 0, sectionVariables = 0, arrays = 0
    }

    mutating func parseTypes(_ bytes: [UInt8], start: Int, length: Int) throws(BTFError) {
        let swap = order != .host
        let result: Result<Void, BTFError> = bytes.withUnsafeBytes { raw in
            let section = UnsafeRawBufferPointer(rebasing: raw[start..<start + length])
            do throws(BTFError) {
                let counts = try countTypes(section, sectionStart: start, swap: swap)
                records.reserveCapacity(counts.types)
                members.reserveCapacity(counts.members)
                parameters.reserveCapacity(counts.parameters)
                enumerators.reserveCapacity(counts.enumerators)
                sectionVariables.reserveCapacity(counts.sectionVariables)
                arrays.reserveCapacity(counts.arrays)
                try fill(section, sectionStart: start, swap: swap)
                return .success(())
            } catch {
                return .failure(error)
            }
        }
        try result.get()
    }

    /// Bytes of a type's entries after the 12-byte `btf_type`; nil for an unknown kind.
    @inline(__always)
    static func trailingSize(kind: BTFKind, vlen: Int) -> Int {
        switch kind {
        case .int, .variable, .declTag: 4
        case .array: 12
        case .struct, .union, .enum64, .dataSection: 12 * vlen
        case .enum, .functionPrototype: 8 * vlen
        case .void, .pointer, .forward, .typedef, .volatile, .const, .restrict, .function, .float, .typeTag: 0
        }
    }

    /// First pass: kinds and lengths only.
    private func countTypes(_ section: UnsafeRawBufferPointer, sectionStart: Int, swap: Bool) throws(BTFError) -> Counts {
        var counts = Counts()
        var offset = 0
        let end = section.count
        while offset < end {
            let id = BTFTypeID(truncatingIfNeeded: firstID + counts.types)
            guard end - offset >= 12 else {
                throw BTFError(.truncated(needed: 12, available: end - offset), offset: sectionStart + offset, typeID: id)
            }
            var info = section.loadUnaligned(fromByteOffset: offset + 4, as: UInt32.self)
            if swap { info = info.byteSwapped }
            let rawKind = UInt8(truncatingIfNeeded: info >> 24) & 0x1f
            guard rawKind != 0, let kind = BTFKind(rawValue: rawKind) else {
                throw BTFError(.unknownKind(rawKind), offset: sectionStart + offset + 4, typeID: id)
            }
            let vlen = Int(info & 0xffff)
            let size = 12 + BTFParser.trailingSize(kind: kind, vlen: vlen)
            guard end - offset >= size else {
                throw BTFError(.truncated(needed: size, available: end - offset), offset: sectionStart + offset, typeID: id)
            }
            switch kind {
            case .struct, .union: counts.members += vlen
            case .functionPrototype: counts.parameters += vlen
            case .enum, .enum64: counts.enumerators += vlen
            case .dataSection: counts.sectionVariables += vlen
            case .array: counts.arrays += 1
            default: break
            }
            counts.types += 1
            offset += size
        }
        guard firstID + counts.types <= BTFParser.maximumTypeCount else {
            throw BTFError(.tooManyTypes(firstID + counts.types), offset: sectionStart)
        }
        return counts
    }

    /// Second pass: decode and check every field. Lengths were checked by `countTypes`.
    private mutating func fill(_ section: UnsafeRawBufferPointer, sectionStart: Int, swap: Bool) throws(BTFError) {
        @inline(__always) func word(_ at: Int) -> UInt32 {
            let value = section.loadUnaligned(fromByteOffset: at, as: UInt32.self)
            return swap ? value.byteSwapped : value
        }
        // Forward references are legal, so ids are checked against the final count after the
        // walk; only the largest one needs comparing.
        var largestReference: UInt32 = 0
        var offset = 0
        let end = section.count
        let stringCount = stringCount
        while offset < end {
            let id = BTFTypeID(truncatingIfNeeded: firstID + records.count)
            let typeOffset = sectionStart + offset
            @inline(__always) func fail(_ reason: BTFError.Reason, _ at: Int = 0) -> BTFError {
                BTFError(reason, offset: typeOffset + at, typeID: id)
            }
            guard end - offset >= 12 else { throw fail(.truncated(needed: 12, available: end - offset)) }
            let nameOffset = word(offset)
            let info = word(offset + 4)
            let sizeOrType = word(offset + 8)
            guard nameOffset < stringCount else { throw fail(.badNameOffset(nameOffset)) }
            guard let kind = BTFKind(rawValue: UInt8(truncatingIfNeeded: info >> 24) & 0x1f), kind != .void else {
                throw fail(.unknownKind(UInt8(truncatingIfNeeded: info >> 24) & 0x1f), 4)
            }
            let vlen = Int(info & 0xffff)
            let kindFlag = info >> 31 != 0
            let trailing = BTFParser.trailingSize(kind: kind, vlen: vlen)
            guard end - offset - 12 >= trailing else {
                throw fail(.truncated(needed: 12 + trailing, available: end - offset))
            }
            let body = offset + 12
            var extra: UInt32 = 0
            switch kind {
            case .void:
                throw fail(.unknownKind(0), 4)
            case .int:
                guard vlen == 0 else { throw fail(.badVlen(kind: kind, vlen: UInt16(vlen)), 4) }
                guard !kindFlag else { throw fail(.badKindFlag(kind: kind), 4) }
                let data = word(body)
                let encoding = (data >> 24) & 0x0f
                let bitOffset = (data >> 16) & 0xff, bits = data & 0xff
                guard data & 0xf000_ff00 == 0, encoding == 0 || encoding == 1 || encoding == 2 || encoding == 4,
                      bits > 0, bits + bitOffset <= 128
                else { throw fail(.badIntEncoding(data), 12) }
                guard sizeOrType == 1 || sizeOrType == 2 || sizeOrType == 4 || sizeOrType == 8 || sizeOrType == 16,
                      (bits + 7) / 8 <= sizeOrType
                else { throw fail(.badSize(kind: kind, size: sizeOrType), 8) }
                extra = data
            case .pointer, .typedef, .volatile, .const, .restrict, .typeTag:
                guard vlen == 0 else { throw fail(.badVlen(kind: kind, vlen: UInt16(vlen)), 4) }
                // Newer kernels mark attribute type tags with the kind_flag.
                guard !kindFlag || kind == .typeTag else { throw fail(.badKindFlag(kind: kind), 4) }
                largestReference = max(largestReference, sizeOrType)
            case .array:
                guard vlen == 0 else { throw fail(.badVlen(kind: kind, vlen: UInt16(vlen)), 4) }
                guard !kindFlag else { throw fail(.badKindFlag(kind: kind), 4) }
                guard sizeOrType == 0 else { throw fail(.badSize(kind: kind, size: sizeOrType), 8) }
                let array = BTFArray(elementType: word(body), indexType: word(body + 4), count: word(body + 8))
                largestReference = max(largestReference, array.elementType, array.indexType)
                extra = UInt32(truncatingIfNeeded: arrays.count)
                arrays.append(array)
            case .struct, .union:
                extra = UInt32(truncatingIfNeeded: members.count)
                let sizeInBits = UInt64(sizeOrType) * 8
                for index in 0..<vlen {
                    let at = body + index * 12
                    let memberName = word(at), memberType = word(at + 4), memberOffset = word(at + 8)
                    guard memberName < stringCount else { throw fail(.badNameOffset(memberName), at - offset) }
                    let member = kindFlag
                        ? BTFMember(nameOffset: memberName, type: memberType, bitOffset: memberOffset & 0xff_ffff,
                                    bitfieldSize: UInt8(truncatingIfNeeded: memberOffset >> 24))
                        : BTFMember(nameOffset: memberName, type: memberType, bitOffset: memberOffset, bitfieldSize: 0)
                    guard UInt64(member.bitOffset) + UInt64(member.bitfieldSize) <= sizeInBits else {
                        throw fail(.badSize(kind: kind, size: sizeOrType), at + 8 - offset)
                    }
                    largestReference = max(largestReference, memberType)
                    members.append(member)
                }
            case .enum, .enum64:
                guard sizeOrType == 1 || sizeOrType == 2 || sizeOrType == 4 || sizeOrType == 8 else {
                    throw fail(.badSize(kind: kind, size: sizeOrType), 8)
                }
                extra = UInt32(truncatingIfNeeded: enumerators.count)
                let stride = kind == .enum ? 8 : 12
                for index in 0..<vlen {
                    let at = body + index * stride
                    let valueName = word(at)
                    guard valueName < stringCount else { throw fail(.badNameOffset(valueName), at - offset) }
                    let low = word(at + 4)
                    let bits: UInt64 = if kind == .enum64 {
                        UInt64(word(at + 8)) << 32 | UInt64(low)
                    } else if kindFlag {
                        UInt64(bitPattern: Int64(Int32(bitPattern: low)))
                    } else {
                        UInt64(low)
                    }
                    enumerators.append(BTFEnumerator(nameOffset: valueName, bitPattern: bits))
                }
            case .forward:
                guard vlen == 0 else { throw fail(.badVlen(kind: kind, vlen: UInt16(vlen)), 4) }
                guard sizeOrType == 0 else { throw fail(.badSize(kind: kind, size: sizeOrType), 8) }
            case .function:
                guard vlen <= 2 else { throw fail(.badLinkage(UInt32(vlen)), 4) }
                guard !kindFlag else { throw fail(.badKindFlag(kind: kind), 4) }
                largestReference = max(largestReference, sizeOrType)
            case .functionPrototype:
                guard !kindFlag else { throw fail(.badKindFlag(kind: kind), 4) }
                largestReference = max(largestReference, sizeOrType)
                extra = UInt32(truncatingIfNeeded: parameters.count)
                for index in 0..<vlen {
                    let at = body + index * 8
                    let parameterName = word(at), parameterType = word(at + 4)
                    guard parameterName < stringCount else { throw fail(.badNameOffset(parameterName), at - offset) }
                    // Type 0 marks `...`, which can only come last and has no name.
                    guard parameterType != 0 || (index == vlen - 1 && parameterName == 0) else {
                        throw fail(.unknownTypeID(0), at + 4 - offset)
                    }
                    largestReference = max(largestReference, parameterType)
                    parameters.append(BTFParameter(nameOffset: parameterName, type: parameterType))
                }
            case .variable:
                guard vlen == 0 else { throw fail(.badVlen(kind: kind, vlen: UInt16(vlen)), 4) }
                guard !kindFlag else { throw fail(.badKindFlag(kind: kind), 4) }
                extra = word(body)
                guard extra <= 2 else { throw fail(.badLinkage(extra), 12) }
                largestReference = max(largestReference, sizeOrType)
            case .dataSection:
                guard !kindFlag else { throw fail(.badKindFlag(kind: kind), 4) }
                extra = UInt32(truncatingIfNeeded: sectionVariables.count)
                for index in 0..<vlen {
                    let at = body + index * 12
                    let variable = BTFDataSectionVariable(type: word(at), offset: word(at + 4), size: word(at + 8))
                    largestReference = max(largestReference, variable.type)
                    sectionVariables.append(variable)
                }
            case .float:
                guard vlen == 0 else { throw fail(.badVlen(kind: kind, vlen: UInt16(vlen)), 4) }
                guard !kindFlag else { throw fail(.badKindFlag(kind: kind), 4) }
                guard sizeOrType == 2 || sizeOrType == 4 || sizeOrType == 8 || sizeOrType == 12 || sizeOrType == 16 else {
                    throw fail(.badSize(kind: kind, size: sizeOrType), 8)
                }
            case .declTag:
                guard vlen == 0 else { throw fail(.badVlen(kind: kind, vlen: UInt16(vlen)), 4) }
                extra = word(body)
                guard Int32(bitPattern: extra) >= -1 else { throw fail(.badComponentIndex(Int32(bitPattern: extra)), 12) }
                largestReference = max(largestReference, sizeOrType)
            }
            records.append(BTFRecord(nameOffset: nameOffset, info: info, sizeOrType: sizeOrType, extra: extra))
            offset = body + trailing
        }
        if Int(largestReference) >= firstID + records.count {
            throw firstUnknownReference(sectionStart: sectionStart)
        }
    }

    /// The error for the first reference to a missing type, found by walking the records
    /// again; only on the failure path.
    private func firstUnknownReference(sectionStart: Int) -> BTFError {
        let count = firstID + records.count
        var offset = sectionStart
        for (index, record) in records.enumerated() {
            let id = BTFTypeID(truncatingIfNeeded: firstID + index)
            let start = Int(record.extra), vlen = Int(record.vlen)
            func check(_ referenced: BTFTypeID, at: Int) -> BTFError? {
                Int(referenced) >= count ? BTFError(.unknownTypeID(referenced), offset: offset + at, typeID: id) : nil
            }
            var error: BTFError?
            switch record.kind {
            case .pointer, .typedef, .volatile, .const, .restrict, .typeTag, .function, .variable, .declTag:
                error = check(record.sizeOrType, at: 8)
            case .functionPrototype:
                error = check(record.sizeOrType, at: 8)
                for index in 0..<vlen where error == nil {
                    error = check(parameters[start + index].type, at: 12 + index * 8 + 4)
                }
            case .array:
                error = check(arrays[start].elementType, at: 12) ?? check(arrays[start].indexType, at: 16)
            case .struct, .union:
                for index in 0..<vlen where error == nil {
                    error = check(members[start + index].type, at: 12 + index * 12 + 4)
                }
            case .dataSection:
                for index in 0..<vlen where error == nil {
                    error = check(sectionVariables[start + index].type, at: 12 + index * 12)
                }
            default:
                break
            }
            if let error { return error }
            offset += 12 + BTFParser.trailingSize(kind: record.kind, vlen: vlen)
        }
        return BTFError(.unknownTypeID(BTFTypeID(truncatingIfNeeded: count)), offset: sectionStart)
    }
}
