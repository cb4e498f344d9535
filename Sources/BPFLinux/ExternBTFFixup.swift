#if os(Linux)
import BPFObject
import Glibc

/// What libbpf changes in an object's BTF for its externs before BPF_BTF_LOAD, which the
/// kernel otherwise refuses: the `.kconfig` and `.ksyms` DATASECs (size 0, holding extern
/// VARs and FUNCs) become anonymous structs; extern VARs and FUNCs become global
/// (the kernel takes no extern linkage), untyped VARs `int`, and unnamed parameters of
/// every FUNC's prototype get a name (the kernel wants one on global functions).
enum ExternBTFFixup {
    /// The object's BTF, fixed for externs and as `ObjectBTFFixup` fixes data sections.
    static func fixed(_ object: ObjectFile) throws(BPFError) -> [UInt8] {
        guard let btf = object.btf else {
            throw BPFError(operation: "BPF_BTF_LOAD", errno: ENOENT, subject: object.name, detail: "the object has no .BTF section")
        }
        guard btf.byteOrder == .host else {
            throw BPFError(operation: "BPF_BTF_LOAD", errno: EINVAL, subject: object.name,
                           detail: "the object's BTF is in the other byte order than this machine's")
        }
        let emptied = try emptyingExternSections(btf.bytes, name: object.name)
        return try globalizingExterns(try fixingDataSections(emptied, object: object), name: object.name)
    }

    struct Layout {
        var headerLength: Int
        var typesStart: Int
        var typesEnd: Int
        var stringsStart: Int
        /// Byte offset of each type record by id (index 0 unused).
        var records: [Int]
    }

    static func layout(_ bytes: [UInt8], name: String) throws(BPFError) -> Layout {
        let fail = BPFError(operation: "BPF_BTF_LOAD", errno: EINVAL, subject: name, detail: "the .BTF section is malformed")
        guard bytes.count >= 24 else { throw fail }
        let headerLength = Int(ObjectBTFFixup.word(bytes, 4))
        let typesStart = headerLength + Int(ObjectBTFFixup.word(bytes, 8))
        let typesEnd = typesStart + Int(ObjectBTFFixup.word(bytes, 12))
        let stringsStart = headerLength + Int(ObjectBTFFixup.word(bytes, 16))
        guard headerLength >= 24, typesStart <= typesEnd, typesEnd <= bytes.count, stringsStart <= bytes.count else { throw fail }
        var records = [0]
        var offset = typesStart
        while offset < typesEnd {
            guard offset + 12 <= typesEnd else { throw fail }
            records.append(offset)
            let info = ObjectBTFFixup.word(bytes, offset + 4)
            guard let extra = ObjectBTFFixup.trailingSize(kind: (info >> 24) & 0x1f, vlen: Int(info & 0xffff)) else { throw fail }
            offset += 12 + extra
        }
        return Layout(headerLength: headerLength, typesStart: typesStart, typesEnd: typesEnd, stringsStart: stringsStart,
                      records: records)
    }

    static func kind(_ bytes: [UInt8], _ record: Int) -> UInt32 { (ObjectBTFFixup.word(bytes, record + 4) >> 24) & 0x1f }

    /// A 4-byte INT's id, which extern-section members and untyped VARs are given.
    static func intID(_ bytes: [UInt8], _ layout: Layout) -> Int? {
        layout.records.indices.dropFirst().first {
            kind(bytes, layout.records[$0]) == 1 && ObjectBTFFixup.word(bytes, layout.records[$0] + 8) == 4
        }
    }

    /// `.kconfig` and `.ksyms` DATASECs turned into anonymous structs of `int` members at
    /// offset 0: a record of the same size (12 bytes an entry either way), so no type moves.
    static func emptyingExternSections(_ original: [UInt8], name: String) throws(BPFError) -> [UInt8] {
        let layout = try layout(original, name: name)
        var bytes = original
        guard let intID = intID(bytes, layout) else { return original }
        for record in layout.records.dropFirst() where kind(bytes, record) == 15 {
            let sectionName = ObjectBTFFixup.string(bytes, at: layout.stringsStart + Int(ObjectBTFFixup.word(bytes, record)))
            guard sectionName == ".kconfig" || sectionName == ".ksyms" else { continue }
            let count = Int(ObjectBTFFixup.word(bytes, record + 4) & 0xffff)
            ObjectBTFFixup.setWord(&bytes, record, 0)
            ObjectBTFFixup.setWord(&bytes, record + 4, 4 << 24 | UInt32(count))   // STRUCT
            ObjectBTFFixup.setWord(&bytes, record + 8, 4)
            for index in 0..<count {
                let member = record + 12 + index * 12
                ObjectBTFFixup.setWord(&bytes, member, 0)
                ObjectBTFFixup.setWord(&bytes, member + 4, UInt32(intID))
                ObjectBTFFixup.setWord(&bytes, member + 8, 0)
            }
        }
        return bytes
    }

    /// libbpf's `btf_fixup_datasec` (as `ObjectBTFFixup` does it, on bytes that are not the
    /// object's own): zero DATASEC sizes from the ELF sections, global variables' offsets
    /// from their symbols, hidden globals static, entries sorted by offset.
    static func fixingDataSections(_ original: [UInt8], object: ObjectFile) throws(BPFError) -> [UInt8] {
        let layout = try layout(original, name: object.name)
        var bytes = original
        let fail = { (detail: String) in BPFError(operation: "BPF_BTF_LOAD", errno: EINVAL, subject: object.name, detail: detail) }
        for record in layout.records.dropFirst() where kind(bytes, record) == 15 {
            let sectionName = ObjectBTFFixup.string(bytes, at: layout.stringsStart + Int(ObjectBTFFixup.word(bytes, record)))
            let fixOffsets = ObjectBTFFixup.word(bytes, record + 8) == 0
            if fixOffsets {
                guard let section = object.elf.section(named: sectionName), section.size > 0, section.size <= UInt64(UInt32.max) else {
                    throw fail("DATASEC '\(sectionName)' has size 0 and no ELF section gives its size")
                }
                ObjectBTFFixup.setWord(&bytes, record + 8, UInt32(section.size))
            }
            let count = Int(ObjectBTFFixup.word(bytes, record + 4) & 0xffff)
            var entries: [(type: UInt32, offset: UInt32, size: UInt32)] = []
            for index in 0..<count {
                let at = record + 12 + index * 12
                var entry = (type: ObjectBTFFixup.word(bytes, at), offset: ObjectBTFFixup.word(bytes, at + 4),
                             size: ObjectBTFFixup.word(bytes, at + 8))
                let variableID = Int(entry.type)
                if variableID > 0, variableID < layout.records.count {
                    let variable = layout.records[variableID]
                    if kind(bytes, variable) == 14 && ObjectBTFFixup.word(bytes, variable + 12) == 1 {   // global allocated
                        let variableName = ObjectBTFFixup.string(bytes, at: layout.stringsStart + Int(ObjectBTFFixup.word(bytes, variable)))
                        guard let symbol = object.elf.symbols.first(where: {
                            $0.kind == .object && ($0.binding == .global || $0.binding == .weak) && $0.name == variableName
                        }) else {
                            throw fail("DATASEC '\(sectionName)': no ELF symbol for variable '\(variableName)'")
                        }
                        if fixOffsets { entry.offset = UInt32(truncatingIfNeeded: symbol.value) }
                        if symbol.visibility == .hidden || symbol.visibility == .internal { ObjectBTFFixup.setWord(&bytes, variable + 12, 0) }
                    }
                }
                entries.append(entry)
            }
            let sorted = entries.enumerated().sorted { ($0.element.offset, $0.offset) < ($1.element.offset, $1.offset) }.map(\.element)
            for (index, entry) in sorted.enumerated() {
                let at = record + 12 + index * 12
                ObjectBTFFixup.setWord(&bytes, at, entry.type)
                ObjectBTFFixup.setWord(&bytes, at + 4, entry.offset)
                ObjectBTFFixup.setWord(&bytes, at + 8, entry.size)
            }
        }
        return bytes
    }

    /// Extern linkage made global, untyped VARs `int`, FUNC parameters named.
    static func globalizingExterns(_ original: [UInt8], name: String) throws(BPFError) -> [UInt8] {
        let layout = try layout(original, name: name)
        var bytes = original
        let intID = intID(bytes, layout)
        for record in layout.records.dropFirst() {
            switch kind(bytes, record) {
            case 14 where ObjectBTFFixup.word(bytes, record + 12) == 2:   // VAR, extern
                ObjectBTFFixup.setWord(&bytes, record + 12, 1)
                if ObjectBTFFixup.word(bytes, record + 8) == 0, let intID { ObjectBTFFixup.setWord(&bytes, record + 8, UInt32(intID)) }
            case 12:   // FUNC
                let info = ObjectBTFFixup.word(bytes, record + 4)
                if info & 0xffff == 2 { ObjectBTFFixup.setWord(&bytes, record + 4, info & ~0xffff | 1) }
                let functionName = ObjectBTFFixup.word(bytes, record)
                let prototype = Int(ObjectBTFFixup.word(bytes, record + 8))
                guard functionName != 0, prototype > 0, prototype < layout.records.count else { continue }
                let prototypeRecord = layout.records[prototype]
                guard kind(bytes, prototypeRecord) == 13 else { continue }
                let count = Int(ObjectBTFFixup.word(bytes, prototypeRecord + 4) & 0xffff)
                for index in 0..<count {
                    let parameter = prototypeRecord + 12 + index * 8
                    if ObjectBTFFixup.word(bytes, parameter) == 0 && ObjectBTFFixup.word(bytes, parameter + 4) != 0 {
                        ObjectBTFFixup.setWord(&bytes, parameter, functionName)
                    }
                }
            default:
                break
            }
        }
        return bytes
    }
}
#endif
