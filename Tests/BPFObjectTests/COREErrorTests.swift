import BPFInstructions
import BPFObject
import Foundation
import Testing

/// What libbpf refuses — candidates that disagree, offsets or bitfields no instruction
/// can express, malformed access strings, instructions that do not hold what the local
/// BTF says — gives an exact error; flavors that agree are fine and prune the candidates.
@Suite(.enabled(if: BTFTestSupport.toolchainMissing == nil, "needs clang and llvm-objcopy"))
struct COREErrorTests {
    private struct Edge {
        var object: ObjectFile
        var local: BTF
        var target: BTF
        func program(_ name: String) throws -> ProgramSpec { try #require(object.program(named: name)) }
        func relocate(_ name: String) throws(CORERelocationError) -> CORERelocationResult {
            guard let program = object.program(named: name) else { return CORERelocationResult(instructions: [], decisions: []) }
            return try program.relocatingCORE(localBTF: local, targetBTF: target)
        }
    }

    private func edge() throws -> Edge {
        let directory = try BTFTestSupport.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let object = try ObjectFixtures.object("core-edge")
        return Edge(object: object, local: try #require(object.btf), target: try CORETestSupport.target("core-edge-target", in: directory).btf)
    }

    private func reason(_ body: () throws -> Void) -> CORERelocationError? {
        do {
            try body()
            return nil
        } catch {
            return error as? CORERelocationError
        }
    }

    @Test func candidatesDisagreeingOnTheOffset() throws {
        let edge = try edge()
        let error = reason { _ = try edge.relocate("ambiguous_offset") }
        #expect(error?.reason == .fieldOffsetAmbiguity(first: 32, other: 0))
        #expect(error?.program == "ambiguous_offset" && error?.relocationIndex == 0 && error?.instructionIndex == 0)
        #expect(error?.description == "program 'ambiguous_offset', CO-RE relocation #0 at instruction 0: field offset ambiguity: candidates give bit offsets 32 and 0")
    }

    @Test func candidatesDisagreeingOnTheValue() throws {
        let edge = try edge()
        #expect(reason { _ = try edge.relocate("ambiguous_value") }?.reason == .decisionAmbiguity(first: "success 4", other: "success 8"))
    }

    /// twin___x and twin___y agree on `b`; twin___z has no `b` and is dropped, so the
    /// next relocation of `struct twin` tries only the two that matched.
    @Test func agreeingFlavorsAndCandidatePruning() throws {
        let edge = try edge()
        let result = try edge.relocate("agreeing")
        let b = try #require(result.decisions.first { $0.relocation.accessString == "0:1" })
        #expect(b.candidates.map(\.matched) == [true, true, false] && b.newValue == 4)
        #expect(b.candidates.map { edge.target.name(of: $0.typeID) } == ["twin___x", "twin___y", "twin___z"])
        let a = try #require(result.decisions.first { $0.relocation.kind == .fieldExists })
        #expect(a.candidates.map { edge.target.name(of: $0.typeID) } == ["twin___x", "twin___y"] && a.newValue == 1)
    }

    @Test func offsetBeyondSixteenBits() throws {
        let edge = try edge()
        let error = reason { _ = try edge.relocate("far_away") }
        #expect(error?.reason == .offsetTooLarge(40000))
        // The same value as an immediate is fine.
        var relocator = CORERelocator(localBTF: edge.local, targetBTF: edge.target)
        let program = try edge.program("far_away")
        let immediate = try #require(program.coreRelocations.first { program.instructions[$0.instructionIndex].opcode == 0xb7 })
        #expect(try relocator.resolve(immediate).newValue == 40000)
    }

    @Test func bitfieldNoLoadCovers() throws {
        let edge = try edge()
        #expect(reason { _ = try edge.relocate("wide_bitfield") }?.reason == .bitfieldTooWide)
    }

    // MARK: Malformed relocations

    private func record(_ access: String, _ kind: CORERelocationKind, type: BTFTypeID, at offset: UInt32 = 0) -> BTFExt.CORERelocation {
        BTFExt.CORERelocation(instructionOffset: offset, typeID: type, accessStringOffset: 0, accessString: access, kind: kind)
    }

    /// The reason `resolve` gives, checking that it names the relocation's index.
    private func failure(_ relocator: inout CORERelocator, _ relocation: BTFExt.CORERelocation) -> CORERelocationError.Reason? {
        do throws(CORERelocationError) {
            _ = try relocator.resolve(relocation, index: 3)
            return nil
        } catch {
            #expect(error.relocationIndex == 3)
            return error.reason
        }
    }

    @Test func malformedAccessStrings() throws {
        let edge = try edge()
        var relocator = CORERelocator(localBTF: edge.local, targetBTF: edge.target)
        let pair = try #require(edge.local.ids(named: "pair", kind: .struct).first)
        for access in ["", ":0", "0:", "0::1", "a", "0:-1", "0:1x", "99999999999"] {
            #expect(failure(&relocator, record(access, .fieldByteOffset, type: pair)) == .badAccessString(access), "'\(access)'")
        }
        #expect(failure(&relocator, record("1", .typeSize, type: pair)) == .badAccessString("1"))
        let deep = Array(repeating: "0", count: 65).joined(separator: ":")
        #expect(failure(&relocator, record(deep, .fieldByteOffset, type: pair)) == .accessTooDeep)
        #expect(failure(&relocator, record("0:2", .fieldByteOffset, type: pair)) == .badAccess("type [\(pair)] has no member #2"))
        guard case .badAccess? = failure(&relocator, record("0:0:0", .fieldByteOffset, type: pair)) else {
            Issue.record("a member of an int")
            return
        }
        guard case .badAccess? = failure(&relocator, record("0", .enumValue, type: pair)) else {
            Issue.record("an enum value of a struct")
            return
        }
        #expect(failure(&relocator, record("0", .typeSize, type: 9999)) == .unknownLocalType(9999))
        // An anonymous root has no name to find candidates by.
        let anonymous = try #require(edge.local.ownIDs.first { edge.local.kind(of: $0) == .pointer })
        #expect(failure(&relocator, record("0", .typeExists, type: anonymous)) == .anonymousType)
        // A local id needs no candidates, anonymous or not.
        #expect(try relocator.resolve(record("0", .typeIDLocal, type: anonymous)).newValue == UInt64(anonymous))
    }

    // MARK: Instructions that do not fit

    @Test func instructionsThatDoNotHoldTheLocalValue() throws {
        let edge = try edge()
        var program = try edge.program("agreeing")
        let load = try #require(program.coreRelocations.first { $0.accessString == "0:1" }).instructionIndex
        let constant = try #require(program.coreRelocations.first { $0.kind == .fieldExists }).instructionIndex

        var tampered = program
        tampered.instructions[load].offset = 12
        #expect(reason { _ = try tampered.relocatingCORE(localBTF: edge.local, targetBTF: edge.target) }?.reason
                == .unexpectedValue(found: 12, expected: 4))
        tampered = program
        tampered.instructions[constant].imm = 7
        #expect(reason { _ = try tampered.relocatingCORE(localBTF: edge.local, targetBTF: edge.target) }?.reason
                == .unexpectedValue(found: 7, expected: 1))
        // A jump is nothing CO-RE patches; an ALU op on a register neither.
        tampered = program
        tampered.instructions[load].opcode = 0x05
        #expect(reason { _ = try tampered.relocatingCORE(localBTF: edge.local, targetBTF: edge.target) }?.reason
                == .unsupportedInstruction(opcode: 0x05))
        tampered = program
        tampered.instructions[constant].opcode = 0xbf
        #expect(reason { _ = try tampered.relocatingCORE(localBTF: edge.local, targetBTF: edge.target) }?.reason
                == .unsupportedInstruction(opcode: 0xbf))
        // A relocation pointing past the program.
        program.coreRelocations[0].instructionOffset = UInt32(program.instructions.count * 8)
        #expect(reason { _ = try program.relocatingCORE(localBTF: edge.local, targetBTF: edge.target) }?.reason
                == .instructionOutOfRange(offset: UInt32(program.instructions.count * 8)))
    }

    /// The load of a field whose size changes must have the field's local size.
    @Test func loadOfTheWrongSizeIsRefusedWhenTheFieldResizes() throws {
        let directory = try BTFTestSupport.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let object = try ObjectFixtures.object("core-kinds")
        let local = try #require(object.btf)
        let target = try CORETestSupport.target("core-target", in: directory).btf
        var program = try #require(object.program(named: "fields"))
        let flags = try #require(program.coreRelocations.first { $0.accessString == "0:2" }).instructionIndex
        program.instructions[flags].opcode = 0x69  // LDX H instead of LDX W
        #expect(reason { _ = try program.relocatingCORE(localBTF: local, targetBTF: target) }?.reason
                == .unexpectedMemorySize(found: 2, expected: 4))
    }

    /// Random relocations against both fixtures' BTF: each resolves or throws.
    @Test func randomRelocationsOnlyReturnOrThrow() throws {
        let edge = try edge()
        var relocator = CORERelocator(localBTF: edge.local, targetBTF: edge.target)
        var state: UInt64 = 0x5eed
        func next(_ bound: Int) -> Int {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return Int((state >> 33) % UInt64(bound))
        }
        var resolved = 0
        for _ in 0..<5000 {
            let steps = (0..<(1 + next(5))).map { _ in String(next(4)) }.joined(separator: ":")
            let kind = CORERelocationKind.allCases[next(CORERelocationKind.allCases.count)]
            let relocation = record(steps, kind, type: BTFTypeID(next(edge.local.count + 2)), at: UInt32(next(4) * 8))
            guard let decision = try? relocator.resolve(relocation) else { continue }
            resolved += 1
            var code = Array(repeating: RawInstruction(opcode: [0x61, 0xb7, 0x18, 0x05, 0x00][next(5)]), count: 4)
            _ = try? CORERelocator.patch(&code, with: decision)
        }
        #expect(resolved > 0)
    }
}

/// A split target (a module's BTF on vmlinux) is searched as libbpf searches modules:
/// its own types only when the base has no candidate.
@Suite struct CORESplitTargetTests {
    /// `struct thing { int x; }` at id 2 after `int` at id 1, with `x` at `offset` bytes
    /// (a pad member first when the offset is not 0).
    private func thing(_ builder: inout BTFBlobBuilder, intID: BTFTypeID, offset: UInt32) {
        let name = builder.string("thing"), x = builder.string("x")
        if offset == 0 {
            builder.type(name: name, kind: .struct, vlen: 1, sizeOrType: 4, [x, intID, 0])
        } else {
            builder.type(name: name, kind: .struct, vlen: 2, sizeOrType: offset + 4, [builder.string("pad"), intID, 0, x, intID, offset * 8])
        }
    }

    @Test func splitTypesAreCandidatesOnlyWhenTheBaseHasNone() throws {
        var localBuilder = BTFBlobBuilder()
        localBuilder.type(name: localBuilder.string("int"), kind: .int, sizeOrType: 4, [0x0100_0020])
        thing(&localBuilder, intID: 1, offset: 0)
        let local = try BTF(parsing: localBuilder.blob())
        let relocation = BTFExt.CORERelocation(instructionOffset: 0, typeID: 2, accessStringOffset: 0, accessString: "0:0", kind: .fieldByteOffset)

        // The base has only int; the split part has thing with x at 8.
        var baseBuilder = BTFBlobBuilder()
        baseBuilder.type(name: baseBuilder.string("int"), kind: .int, sizeOrType: 4, [0x0100_0020])
        let base = try BTF(parsing: baseBuilder.blob())
        var split = BTFBlobBuilder()
        split.strings = []
        split.stringBase = UInt32(base.strings.count)
        thing(&split, intID: 1, offset: 8)
        let module = try BTF(parsing: split.blob(), base: base)
        var relocator = CORERelocator(localBTF: local, targetBTF: module)
        let fromModule = try relocator.resolve(relocation)
        #expect(fromModule.newValue == 8 && fromModule.candidates.map(\.typeID) == [2])

        // With a thing in the base too (x at 4), the split part is not searched.
        var richBase = BTFBlobBuilder()
        richBase.type(name: richBase.string("int"), kind: .int, sizeOrType: 4, [0x0100_0020])
        thing(&richBase, intID: 1, offset: 4)
        let vmlinux = try BTF(parsing: richBase.blob())
        var richSplit = BTFBlobBuilder()
        richSplit.strings = []
        richSplit.stringBase = UInt32(vmlinux.strings.count)
        thing(&richSplit, intID: 1, offset: 8)
        var second = CORERelocator(localBTF: local, targetBTF: try BTF(parsing: richSplit.blob(), base: vmlinux))
        let fromBase = try second.resolve(relocation)
        #expect(fromBase.newValue == 4 && fromBase.candidates.map(\.typeID) == [2])
    }
}
