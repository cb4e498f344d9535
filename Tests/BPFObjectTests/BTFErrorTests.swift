import BPFInstructions
import BPFObject
import Testing

/// Hand-built blobs: each malformed one is refused with the right reason, byte offset and
/// type id; split BTF continues its base's ids and string offsets.
@Suite struct BTFErrorTests {
    /// `int` (id 1) and a pointer to it (id 2).
    private func smallBlob(order: ByteOrder = .little) -> BTFBlobBuilder {
        var builder = BTFBlobBuilder(order: order)
        let int = builder.string("int")
        builder.type(name: int, kind: .int, sizeOrType: 4, [0x0100_0020])
        builder.type(kind: .pointer, sizeOrType: 1)
        return builder
    }

    private func error(_ bytes: [UInt8]) -> BTFError? {
        do {
            _ = try BTF(parsing: bytes)
            return nil
        } catch {
            return error
        }
    }

    @Test(arguments: [ByteOrder.little, .big])
    func parsesBothByteOrders(order: ByteOrder) throws {
        let btf = try BTF(parsing: smallBlob(order: order).blob())
        #expect(btf.byteOrder == order && btf.count == 3)
        #expect(btf.rawDump(of: 1) == "[1] INT 'int' size=4 bits_offset=0 nr_bits=32 encoding=SIGNED")
        #expect(btf.rawDump(of: 2) == "[2] PTR '(anon)' type_id=1")
        #expect(btf.size(of: 2) == 8 && btf.ids(named: "int") == [1])
    }

    @Test func headerErrors() {
        let good = smallBlob().blob()
        #expect(error([0x9f]) == BTFError(.truncated(needed: 2, available: 1), offset: 0))
        #expect(error([0, 0] + good.dropFirst(2)) == BTFError(.badMagic(0), offset: 0))
        #expect(error(Array(good.prefix(20))) == BTFError(.truncated(needed: 24, available: 20), offset: 0))
        var version = good
        version[2] = 2
        #expect(error(version) == BTFError(.unsupportedVersion(2), offset: 2))
        var flags = good
        flags[3] = 1
        #expect(error(flags) == BTFError(.unsupportedFlags(1), offset: 3))
        var headerLength = good
        headerLength[4] = 20
        #expect(error(headerLength) == BTFError(.badHeaderLength(20), offset: 4))
        // String section running past the end of the blob.
        #expect(error(Array(good.dropLast())) == BTFError(.badSectionBounds(section: "string", offset: 28, length: 5), offset: 16))
        // Type section misaligned.
        var misaligned = good
        misaligned[8] = 2
        #expect(error(misaligned)?.reason == .badSectionBounds(section: "type", offset: 2, length: 28))
    }

    @Test func typeErrorsNameTheTypeAndOffset() {
        // A reference to a type that does not exist: the pointer (id 2, at 24 + 16) names id 7.
        var dangling = smallBlob()
        dangling.type(kind: .pointer, sizeOrType: 7)
        #expect(error(dangling.blob()) == BTFError(.unknownTypeID(7), offset: 24 + 28 + 8, typeID: 3))

        var unknownKind = smallBlob()
        unknownKind.word(0)
        unknownKind.word(25 << 24)
        unknownKind.word(0)
        #expect(error(unknownKind.blob()) == BTFError(.unknownKind(25), offset: 24 + 28 + 4, typeID: 3))

        var badName = smallBlob()
        badName.type(name: 999, kind: .pointer, sizeOrType: 1)
        #expect(error(badName.blob()) == BTFError(.badNameOffset(999), offset: 24 + 28, typeID: 3))

        // A struct whose second member is missing.
        var shortStruct = smallBlob()
        shortStruct.type(kind: .struct, vlen: 2, sizeOrType: 8, [0, 1, 0])
        #expect(error(shortStruct.blob()) == BTFError(.truncated(needed: 36, available: 24), offset: 24 + 28, typeID: 3))

        var badMember = smallBlob()
        badMember.type(kind: .struct, vlen: 1, sizeOrType: 4, [0, 1, 64])
        #expect(error(badMember.blob()) == BTFError(.badSize(kind: .struct, size: 4), offset: 24 + 28 + 20, typeID: 3))

        var badLinkage = smallBlob()
        badLinkage.type(kind: .variable, sizeOrType: 1, [7])
        #expect(error(badLinkage.blob()) == BTFError(.badLinkage(7), offset: 24 + 28 + 12, typeID: 3))

        var badInt = smallBlob()
        badInt.type(kind: .int, sizeOrType: 3, [32])
        #expect(error(badInt.blob()) == BTFError(.badSize(kind: .int, size: 3), offset: 24 + 28 + 8, typeID: 3))

        var pointerWithMembers = smallBlob()
        pointerWithMembers.type(kind: .pointer, vlen: 1, sizeOrType: 1)
        #expect(error(pointerWithMembers.blob())?.reason == .badVlen(kind: .pointer, vlen: 1))

        // `...` anywhere but last.
        var variadic = smallBlob()
        variadic.type(kind: .functionPrototype, vlen: 2, sizeOrType: 1, [0, 0, 0, 1])
        #expect(error(variadic.blob()) == BTFError(.unknownTypeID(0), offset: 24 + 28 + 16, typeID: 3))

        var strings = smallBlob()
        strings.strings[strings.strings.count - 1] = 65
        #expect(error(strings.blob())?.reason == .badStringTable)

        let message = BTFError(.unknownTypeID(7), offset: 60, typeID: 3).description
        #expect(message == "type [3] at offset 60: refers to type id 7, which does not exist")
    }

    @Test func loopsAndOverflowsHaveNoSize() throws {
        var builder = BTFBlobBuilder()
        builder.type(kind: .typedef, sizeOrType: 2)  // 1 -> 2 -> 1
        builder.type(kind: .const, sizeOrType: 1)
        builder.type(kind: .int, sizeOrType: 8, [64])
        builder.type(kind: .array, sizeOrType: 0, [3, 3, 0x8000_0000])  // 2^31 * 8 bytes
        builder.type(kind: .array, sizeOrType: 0, [3, 3, 0x1000_0000])  // 2^28 * 8 bytes
        let btf = try BTF(parsing: builder.blob())
        #expect(btf.resolved(1) == nil && btf.size(of: 1) == nil)
        #expect(btf.size(of: 4) == nil && btf.size(of: 5) == 0x8000_0000)
        #expect(btf.types[99].body == .void && btf.types.count == 6)
    }

    @Test func splitBTFContinuesItsBase() throws {
        let baseBuilder = smallBlob()
        let base = try BTF(parsing: baseBuilder.blob())
        var split = BTFBlobBuilder()
        split.strings = []
        split.stringBase = UInt32(base.strings.count)
        let name = split.string("module_thing")
        split.type(name: name, kind: .struct, vlen: 2, sizeOrType: 16, [1, 1, 0, 0, 4, 64])  // 'int' from the base
        split.type(kind: .pointer, sizeOrType: 3)
        let module = try BTF(parsing: split.blob(), base: base)
        #expect(module.ownIDs == 3..<5 && module.count == 5 && module.base?.count == 3)
        #expect(module.name(of: 3) == "module_thing" && module.name(of: 1) == "int")
        #expect(module.ids(named: "int") == [1] && module.ids(named: "module_thing") == [3])
        #expect(module.size(of: 3) == 16 && module.size(of: 4) == 8)
        #expect(module.rawDump(of: 3) == "[3] STRUCT 'module_thing' size=16 vlen=2\n\t'int' type_id=1 bits_offset=0\n\t'(anon)' type_id=4 bits_offset=64")

        // Alone, the split blob refers to names and types it does not have.
        #expect(throws: BTFError.self) { try BTF(parsing: split.blob()) }
        var dangling = split
        dangling.type(kind: .pointer, sizeOrType: 9)
        #expect(throws: BTFError(.unknownTypeID(9), offset: 24 + 48 + 8, typeID: 5)) { try BTF(parsing: dangling.blob(), base: base) }
    }

    @Test func btfExtRecordSizesComeFromTheHeader() throws {
        var builder = smallBlob()
        let section = builder.string("xdp")
        let access = builder.string("0:1")
        builder.type(name: builder.string("f"), kind: .function, sizeOrType: 4)
        builder.type(kind: .functionPrototype, sizeOrType: 1)
        let btf = try BTF(parsing: builder.blob())

        // Func info with 12-byte records and CO-RE with 20-byte ones (from a newer compiler).
        func ext(coreKind: UInt32 = 0, coreRecordSize: UInt32 = 20) -> [UInt8] {
            var words: [UInt32] = []
            let functionInfo: [UInt32] = [12, section, 2, 0, 3, 0xdead, 8, 3, 0xbeef]
            let core: [UInt32] = [coreRecordSize, section, 1, 16, 2, access, coreKind, 0xfeed]
            words += [0x0001_eb9f, 32, 0, UInt32(functionInfo.count * 4), 0, 0, UInt32(functionInfo.count * 4), UInt32(core.count * 4)]
            words += functionInfo + core
            return words.flatMap { word in withUnsafeBytes(of: word.littleEndian) { Array($0) } }
        }
        let parsed = try BTFExt(parsing: ext(), btf: btf)
        #expect(parsed.functionInfoRecordSize == 12 && parsed.coreRelocationRecordSize == 20)
        #expect(parsed.functionInfo == [.init(name: "xdp", nameOffset: section, records: [
            .init(instructionOffset: 0, typeID: 3), .init(instructionOffset: 8, typeID: 3)])])
        #expect(parsed.functionInfo[0].records[1].instructionIndex == 1)
        #expect(parsed.coreRelocations[0].records == [.init(instructionOffset: 16, typeID: 2, accessStringOffset: access, accessString: "0:1", kind: .fieldByteOffset)])
        #expect(parsed.lineInfo.isEmpty)

        #expect(throws: BTFError(.unknownRelocationKind(99), offset: 32 + 36 + 12 + 12)) { try BTFExt(parsing: ext(coreKind: 99), btf: btf) }
        #expect(throws: BTFError(.badRecordSize(section: "CO-RE relocation", size: 14), offset: 32 + 36)) {
            try BTFExt(parsing: ext(coreRecordSize: 14), btf: btf)
        }
        #expect(throws: BTFError.self) { try BTFExt(parsing: Array(ext().dropLast(4)), btf: btf) }
    }
}
