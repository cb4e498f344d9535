/// Struct layout for the C header: natural alignment as libbpf's `btf__align_of` works it
/// out, packing detection, and explicit padding fields (`long: 64;`, `int: 0;`) where the
/// compiler would not put members at the offsets BTF records.
extension BTFCHeaderWriter {
    /// The type's natural alignment in bytes; 1 for a record laid out as packed, 0 where
    /// there is none (void, functions, forward declarations, loops). Memoized.
    mutating func alignment(of id: BTFTypeID) -> Int {
        let slot = Int(id)
        guard slot < alignments.count else { return 0 }
        let known = alignments[slot]
        if known >= 0 { return Int(known) }
        // -2: already being computed, so a loop; libbpf would recurse forever.
        if known == -2 || depth > BTFCHeaderWriter.maximumDepth { return 0 }
        alignments[slot] = -2
        depth += 1
        defer { depth -= 1 }
        let result = computeAlignment(id)
        alignments[slot] = Int32(truncatingIfNeeded: result)
        return result
    }

    private mutating func computeAlignment(_ id: BTFTypeID) -> Int {
        guard id != 0 else { return 0 }
        let record = table.record(id)
        switch record.kind {
        case .int, .enum, .enum64, .float:
            return min(BTF.pointerSize, Int(record.sizeOrType))
        case .pointer:
            return BTF.pointerSize
        case .typedef, .volatile, .const, .restrict, .typeTag:
            return alignment(of: record.sizeOrType)
        case .array:
            return alignment(of: table.array(of: record).elementType)
        case .struct, .union:
            var largest = 1
            for member in table.members(of: record) {
                let alignment = alignment(of: member.type)
                if alignment <= 0 { return alignment }
                largest = max(largest, alignment)
                // A member off its natural alignment means the record is packed.
                let bits = record.kindFlag ? member.bitfieldSize : 0
                if bits == 0 && Int(member.bitOffset) % (8 * alignment) != 0 { return 1 }
            }
            return Int(record.sizeOrType) % largest != 0 ? 1 : largest
        default:
            return 0
        }
    }

    /// Whether a struct needs `__attribute__((packed))`: a non-bitfield member off its
    /// natural alignment, or a size that is not a multiple of the alignment. A struct
    /// declared packed whose layout is natural anyway is written without it.
    mutating func isPacked(_ record: BTFRecord) -> Bool {
        var largest = 1
        for member in table.members(of: record) {
            let alignment = alignment(of: member.type)
            let bits = record.kindFlag ? member.bitfieldSize : 0
            if alignment != 0 && bits == 0 && Int(member.bitOffset) % (8 * alignment) != 0 { return true }
            largest = max(largest, alignment)
        }
        return Int(record.sizeOrType) % largest != 0
    }

    /// Largest gap written out as padding fields (2 MiB); a gap beyond any real struct's.
    static let maximumPaddingBits = 1 << 24

    /// Fills the gap from bit `current` to bit `next` with unnamed bitfields, relying on the
    /// compiler's natural alignment where it lands right (libbpf's
    /// `btf_dump_emit_bit_padding`): first a `long`, `int`, `short` or `char` to reach an
    /// aligned boundary — `type: 0` when the next member's own alignment would not get
    /// there — then whole units, then the smallest type that covers the rest.
    mutating func writeBitPadding(from current: Int, to next: Int, nextAlignment: Int, inBitfield: Bool,
                                  level: Int, typeID: BTFTypeID) throws(BTFCHeaderError) {
        guard current < next else { return }
        guard next - current <= BTFCHeaderWriter.maximumPaddingBits else {
            throw BTFCHeaderError(.paddingTooLarge(bits: next - current), typeID: typeID)
        }
        let pads: [(name: StaticString, bits: Int)] = [("long", 64), ("int", 32), ("short", 16), ("char", 8)]
        var current = current
        var padName: StaticString = "char"
        var padBits = 8
        var aligned = current
        for pad in pads {
            padName = pad.name
            padBits = pad.bits
            aligned = Self.roundUp(current, to: pad.bits)
            if aligned <= next { break }
        }
        if aligned > current && aligned <= next {
            // `type: 0` forces the boundary when the next member would not land on it by
            // its own alignment, or when a `type: n` would fit in the hole and be ignored.
            if inBitfield
                || (aligned == next && Self.roundUp(current, to: nextAlignment * 8) != aligned)
                || (aligned != next && next - aligned <= aligned - current) {
                writePaddingField(padName, bits: inBitfield ? aligned - current : 0, level: level)
            }
            current = aligned
        }
        while current != next {
            let bits = min(next - current, padBits)
            if bits == padBits {
                writePaddingField(padName, bits: padBits, level: level)
                current += bits
                continue
            }
            // The remainder: the smallest type that covers it.
            for pad in pads.reversed() where pad.bits >= bits {
                padName = pad.name
                padBits = pad.bits
                writePaddingField(padName, bits: bits, level: level)
                current += bits
                break
            }
        }
    }

    private mutating func writePaddingField(_ type: StaticString, bits: Int, level: Int) {
        write("\n")
        writeIndent(level)
        write(type)
        write(": ")
        writeNumber(UInt64(bits))
        write(";")
    }

    /// C's `roundup`; an alignment of 0 (unknown) leaves the value as it is.
    static func roundUp(_ value: Int, to multiple: Int) -> Int {
        guard multiple > 0 else { return value }
        return (value + multiple - 1) / multiple * multiple
    }

    // MARK: Output

    @inline(__always)
    mutating func write(_ text: StaticString) {
        text.withUTF8Buffer { output.append(contentsOf: $0) }
    }

    /// libbpf indents with tabs, at most 13.
    mutating func writeIndent(_ level: Int) {
        for _ in 0..<min(max(level, 0), 13) { output.append(0x09) }
    }

    mutating func writeNumber(_ value: UInt64) {
        var digits: (UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8,
                     UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8) =
            (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
        var count = 0
        var value = value
        withUnsafeMutableBytes(of: &digits) { buffer in
            repeat {
                buffer[19 - count] = 0x30 + UInt8(value % 10)
                value /= 10
                count += 1
            } while value != 0
            output.append(contentsOf: buffer[(20 - count)...])
        }
    }

    mutating func writeSigned(_ value: Int64) {
        if value < 0 { output.append(0x2d) }
        writeNumber(value.magnitude)
    }

    /// The string at `offset` in the string table, copied without building a `String`.
    mutating func writeString(at offset: UInt32) {
        let offset = Int(offset)
        for segment in table.strings.segments.reversed() where offset >= segment.firstOffset {
            guard offset - segment.firstOffset < segment.length else { return }
            let from = segment.start + offset - segment.firstOffset
            let end = segment.start + segment.length
            var to = from
            segment.bytes.withUnsafeBufferPointer { bytes in
                // The parser checked that each segment ends with NUL inside `bytes`.
                while to < end, bytes[to] != 0 { to += 1 }
            }
            output.append(contentsOf: segment.bytes[from..<to])
            return
        }
    }
}
