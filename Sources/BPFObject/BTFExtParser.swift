import BPFInstructions

extension BTFExt {
    /// Parses a `.BTF.ext` section in either byte order (told by the magic). Names and
    /// access strings are looked up in `btf`'s string table; type ids are checked against it.
    public init(parsing bytes: [UInt8], btf: BTF) throws(BTFError) {
        do {
            try self.init(reading: bytes, btf: btf)
        } catch let error as BTFError {
            throw error
        } catch let error as ByteReader.OutOfBounds {
            throw BTFError(error)
        } catch {
            throw BTFError(.truncated(needed: 0, available: bytes.count), offset: 0)
        }
    }

    /// Fuzzing entry point: parses `bytes` as `.BTF.ext` against `btf`. Must only ever return.
    public static func fuzz(_ bytes: [UInt8], btf: BTF) {
        guard let ext = try? BTFExt(parsing: bytes, btf: btf) else { return }
        for section in ext.coreRelocations {
            for relocation in section.records { _ = relocation.accessIndexes }
        }
    }

    /// Header fields: magic, version, flags, hdr_len, then (offset, length) pairs relative
    /// to the header's end for func info, line info and (when hdr_len allows) CO-RE.
    private init(reading bytes: [UInt8], btf: BTF) throws {
        var reader = ByteReader(bytes, order: .little)
        let magic = try reader.u16(at: 0)
        if magic == BTFHeader.magic {
            byteOrder = .little
        } else if magic == BTFHeader.magic.byteSwapped {
            byteOrder = .big
        } else {
            throw BTFError(.badMagic(magic), offset: 0)
        }
        reader.order = byteOrder
        let version = try reader.u8(at: 2)
        guard version == 1 else { throw BTFError(.unsupportedVersion(version), offset: 2) }
        let flags = try reader.u8(at: 3)
        guard flags == 0 else { throw BTFError(.unsupportedFlags(flags), offset: 3) }
        let headerLength = try reader.u32(at: 4)
        guard headerLength >= 24, Int(headerLength) <= bytes.count else {
            throw BTFError(.badHeaderLength(headerLength), offset: 4)
        }
        let hasCORE = headerLength >= 32
        let data = try reader.subrange(at: Int(headerLength), count: bytes.count - Int(headerLength))

        func part(_ name: String, at headerOffset: Int, minimumSize: Int) throws -> (reader: ByteReader, recordSize: Int)? {
            let offset = try reader.u32(at: headerOffset), length = try reader.u32(at: headerOffset + 4)
            guard length > 0 else { return nil }
            guard offset % 4 == 0, Int(offset) + Int(length) <= data.end - data.start else {
                throw BTFError(.badSectionBounds(section: name, offset: offset, length: length), offset: headerOffset)
            }
            var part = try data.subrange(at: data.start + Int(offset), count: Int(length))
            let recordSizeOffset = part.offset
            let recordSize = try part.readU32()
            guard recordSize >= minimumSize, recordSize % 4 == 0 else {
                throw BTFError(.badRecordSize(section: name, size: recordSize), offset: recordSizeOffset)
            }
            return (part, Int(recordSize))
        }

        /// Walks `{sec_name_off, num_info, records...}` groups to the end of the part.
        func sections<Record>(
            _ name: String, _ found: (reader: ByteReader, recordSize: Int)?,
            record: (ByteReader, Int) throws -> Record
        ) throws -> [Section<Record>] {
            guard var reader = found?.reader, let recordSize = found?.recordSize else { return [] }
            var sections: [Section<Record>] = []
            while !reader.isAtEnd {
                let nameAt = reader.offset
                let nameOffset = try reader.readU32()
                guard let sectionName = btf.strings.string(at: nameOffset) else {
                    throw BTFError(.badNameOffset(nameOffset), offset: nameAt)
                }
                let count = Int(try reader.readU32())
                // Check the whole group first so a huge count fails before any allocation.
                try reader.check(reader.offset, count.multipliedReportingOverflow(by: recordSize).overflow ? Int.max : count * recordSize)
                var records: [Record] = []
                records.reserveCapacity(count)
                for _ in 0..<count {
                    records.append(try record(reader, reader.offset))
                    try reader.skip(recordSize)
                }
                sections.append(Section(name: sectionName, nameOffset: nameOffset, records: records))
            }
            return sections
        }

        func string(_ reader: ByteReader, at offset: Int) throws -> (UInt32, String) {
            let nameOffset = try reader.u32(at: offset)
            guard let text = btf.strings.string(at: nameOffset) else { throw BTFError(.badNameOffset(nameOffset), offset: offset) }
            return (nameOffset, text)
        }

        func typeID(_ reader: ByteReader, at offset: Int) throws -> BTFTypeID {
            let id = try reader.u32(at: offset)
            guard Int(id) < btf.count else { throw BTFError(.unknownTypeID(id), offset: offset) }
            return id
        }

        let functionPart = try part("func info", at: 8, minimumSize: FunctionInfo.minimumSize)
        functionInfo = try sections("func info", functionPart) { reader, at in
            FunctionInfo(instructionOffset: try reader.u32(at: at), typeID: try typeID(reader, at: at + 4))
        }
        functionInfoRecordSize = functionPart?.recordSize ?? 0

        let linePart = try part("line info", at: 16, minimumSize: LineInfo.minimumSize)
        lineInfo = try sections("line info", linePart) { reader, at in
            let (fileNameOffset, fileName) = try string(reader, at: at + 4)
            let (lineOffset, line) = try string(reader, at: at + 8)
            return LineInfo(
                instructionOffset: try reader.u32(at: at), fileNameOffset: fileNameOffset, lineOffset: lineOffset,
                lineAndColumn: try reader.u32(at: at + 12), fileName: fileName, line: line)
        }
        lineInfoRecordSize = linePart?.recordSize ?? 0

        let corePart = hasCORE ? try part("CO-RE relocation", at: 24, minimumSize: CORERelocation.minimumSize) : nil
        coreRelocations = try sections("CO-RE relocation", corePart) { reader, at in
            let (accessOffset, access) = try string(reader, at: at + 8)
            let rawKind = try reader.u32(at: at + 12)
            guard let kind = CORERelocationKind(rawValue: rawKind) else {
                throw BTFError(.unknownRelocationKind(rawKind), offset: at + 12)
            }
            return CORERelocation(
                instructionOffset: try reader.u32(at: at), typeID: try typeID(reader, at: at + 4),
                accessStringOffset: accessOffset, accessString: access, kind: kind)
        }
        coreRelocationRecordSize = corePart?.recordSize ?? 0
    }
}
