#if os(Linux)
import BPFObject
import Glibc

/// Rewrites an object's `.BTF` as libbpf's `btf_fixup_datasec` does before BPF_BTF_LOAD:
/// clang leaves DATASEC sizes and global variables' offsets zero (they are relocations in
/// the object), and the kernel refuses a zero-sized DATASEC. Sizes come from the ELF
/// sections, offsets from the symbols; hidden globals become static; variables are sorted.
enum ObjectBTFFixup {
    static let magic: UInt16 = 0xeb9f

    /// The blob to load, or an error naming what cannot be fixed.
    static func fixed(_ object: ObjectFile) throws(BPFError) -> [UInt8] {
        guard let btf = object.btf else {
            throw BPFError(operation: "BPF_BTF_LOAD", errno: ENOENT, subject: object.name, detail: "the object has no .BTF section")
        }
        guard btf.byteOrder == .host else {
            throw BPFError(operation: "BPF_BTF_LOAD", errno: EINVAL, subject: object.name,
                           detail: "the object's BTF is in the other byte order than this machine's")
        }
        return try fixedBytes(btf.bytes, object: object)
    }

    /// `bytes` (the object's `.BTF`, or anything else) fixed up against `object`'s ELF sections
    /// and symbols.
    static func fixedBytes(_ original: [UInt8], object: ObjectFile) throws(BPFError) -> [UInt8] {
        var bytes = original
        let fail = { (detail: String) in BPFError(operation: "BPF_BTF_LOAD", errno: EINVAL, subject: object.name, detail: detail) }
        guard bytes.count >= 24, word16(bytes, 0) == magic else { throw fail("the .BTF header is malformed") }
        let headerLength = Int(word(bytes, 4))
        let typesStart = headerLength + Int(word(bytes, 8))
        let typesEnd = typesStart + Int(word(bytes, 12))
        let stringsStart = headerLength + Int(word(bytes, 16))
        guard headerLength >= 24, typesStart <= typesEnd, typesEnd <= bytes.count, stringsStart <= bytes.count else {
            throw fail("the .BTF header is malformed")
        }

        // Byte offset of each type record, by id, to patch VAR linkage.
        var recordOffsets: [Int] = [0]
        var offset = typesStart
        while offset < typesEnd {
            guard offset + 12 <= typesEnd else { throw fail("a type record runs past the type section") }
            recordOffsets.append(offset)
            let info = word(bytes, offset + 4)
            let vlen = Int(info & 0xffff)
            let kind = (info >> 24) & 0x1f
            guard let extra = trailingSize(kind: kind, vlen: vlen) else { throw fail("unknown BTF kind \(kind)") }
            offset += 12 + extra
        }

        for (id, recordOffset) in recordOffsets.enumerated() where id > 0 {
            let info = word(bytes, recordOffset + 4)
            guard (info >> 24) & 0x1f == 15 else { continue }   // DATASEC
            let name = string(bytes, at: stringsStart + Int(word(bytes, recordOffset)))
            var size = word(bytes, recordOffset + 8)
            let fixOffsets = size == 0
            if fixOffsets {
                guard let section = object.elf.section(named: name), section.size > 0, section.size <= UInt64(UInt32.max) else {
                    throw fail("DATASEC '\(name)' has size 0 and no ELF section gives its size (extern sections such as .kconfig and .ksyms are not supported yet)")
                }
                size = UInt32(section.size)
                setWord(&bytes, recordOffset + 8, size)
            }
            let count = Int(info & 0xffff)
            var entries: [(type: UInt32, offset: UInt32, size: UInt32)] = []
            for index in 0..<count {
                let at = recordOffset + 12 + index * 12
                var entry = (type: word(bytes, at), offset: word(bytes, at + 4), size: word(bytes, at + 8))
                let variableID = Int(entry.type)
                if variableID < recordOffsets.count, variableID > 0 {
                    let variable = recordOffsets[variableID]
                    let isVariable = (word(bytes, variable + 4) >> 24) & 0x1f == 14
                    let linkage = isVariable ? word(bytes, variable + 12) : 0
                    if isVariable && linkage == 1 {   // BTF_VAR_GLOBAL_ALLOCATED
                        let variableName = string(bytes, at: stringsStart + Int(word(bytes, variable)))
                        guard let symbol = object.elf.symbols.first(where: {
                            $0.kind == .object && ($0.binding == .global || $0.binding == .weak) && $0.name == variableName
                        }) else {
                            throw fail("DATASEC '\(name)': no ELF symbol for variable '\(variableName)'")
                        }
                        if fixOffsets { entry.offset = UInt32(truncatingIfNeeded: symbol.value) }
                        if symbol.visibility == .hidden || symbol.visibility == .internal { setWord(&bytes, variable + 12, 0) }
                    }
                }
                entries.append(entry)
            }
            let sorted = entries.enumerated().sorted { ($0.element.offset, $0.offset) < ($1.element.offset, $1.offset) }.map(\.element)
            for (index, entry) in sorted.enumerated() {
                let at = recordOffset + 12 + index * 12
                setWord(&bytes, at, entry.type)
                setWord(&bytes, at + 4, entry.offset)
                setWord(&bytes, at + 8, entry.size)
            }
        }
        return bytes
    }

    /// Bytes after the 12-byte common part of a type record.
    static func trailingSize(kind: UInt32, vlen: Int) -> Int? {
        switch kind {
        case 1, 14, 17: 4                     // INT, VAR, DECL_TAG
        case 2, 7, 8, 9, 10, 11, 12, 16, 18: 0 // PTR, FWD, TYPEDEF, VOLATILE, CONST, RESTRICT, FUNC, FLOAT, TYPE_TAG
        case 3: 12                            // ARRAY
        case 4, 5, 15, 19: vlen * 12          // STRUCT, UNION, DATASEC, ENUM64
        case 6, 13: vlen * 8                  // ENUM, FUNC_PROTO
        default: nil
        }
    }

    static func word(_ bytes: [UInt8], _ offset: Int) -> UInt32 {
        guard offset >= 0, offset + 4 <= bytes.count else { return 0 }
        return UInt32(bytes[offset]) | UInt32(bytes[offset + 1]) << 8 | UInt32(bytes[offset + 2]) << 16 | UInt32(bytes[offset + 3]) << 24
    }

    static func word16(_ bytes: [UInt8], _ offset: Int) -> UInt16 {
        UInt16(bytes[offset]) | UInt16(bytes[offset + 1]) << 8
    }

    static func setWord(_ bytes: inout [UInt8], _ offset: Int, _ value: UInt32) {
        guard offset >= 0, offset + 4 <= bytes.count else { return }
        for index in 0..<4 { bytes[offset + index] = UInt8(truncatingIfNeeded: value >> UInt32(8 * index)) }
    }

    static func string(_ bytes: [UInt8], at offset: Int) -> String {
        guard offset >= 0, offset < bytes.count else { return "" }
        let end = bytes[offset...].firstIndex(of: 0) ?? bytes.count
        return String(decoding: bytes[offset..<end], as: UTF8.self)
    }
}
#endif
