import BPFInstructions
import BPFObject
import Testing

/// Damaged and unsupported objects give errors of the right kind that name the section,
/// symbol and offset — the cases libbpf refuses, made by patching compiled fixtures.
@Suite struct ObjectErrorTests {
    /// A little-endian ELF file open for patching.
    struct Patcher {
        var bytes: [UInt8]
        let elf: ELFFile

        init(_ bytes: [UInt8]) throws {
            self.bytes = bytes
            elf = try ELFFile(parsing: bytes)
        }

        mutating func write(_ value: UInt64, at offset: Int, size: Int) {
            for index in 0..<size { bytes[offset + index] = UInt8(truncatingIfNeeded: value >> (8 * UInt64(index))) }
        }

        var sectionTable: Int { Int((0..<8).reduce(UInt64(0)) { $0 | UInt64(bytes[40 + $1]) << (8 * UInt64($1)) }) }

        /// Byte offset of a section header field (`sh_type` is at 4, `sh_offset` at 24).
        func sectionField(_ name: String, _ field: Int) throws -> Int {
            let section = try #require(elf.section(named: name))
            return sectionTable + section.index * 64 + field
        }

        /// Byte offset of a symbol table entry's field (`st_info` at 4, `st_size` at 16).
        func symbolField(_ name: String, _ field: Int) throws -> Int {
            let table = try #require(elf.symbolTableIndex.map { elf.sections[$0] })
            let symbol = try #require(elf.symbols.first { $0.name == name })
            return Int(table.fileOffset) + symbol.index * 24 + field
        }

        func object() throws -> ObjectFile { try ObjectFile(parsing: bytes) }
    }

    func error(_ body: () throws -> Void) -> ObjectError? {
        do { try body() } catch let error as ObjectError { return error } catch { Issue.record("not an ObjectError: \(error)") }
        return nil
    }

    @Test func notELFOrNotBPF() throws {
        #expect(error { _ = try ObjectFile(parsing: []) }?.kind == .notELF)
        #expect(error { _ = try ObjectFile(parsing: Array("not an object".utf8)) }?.kind == .notELF)
        var header: [UInt8] = [0x7f, 0x45, 0x4c, 0x46, 1, 1, 1] + [UInt8](repeating: 0, count: 57)
        #expect(error { _ = try ObjectFile(parsing: header) }?.message.contains("64-bit") == true)
        header[4] = 2
        header[5] = 3
        #expect(error { _ = try ObjectFile(parsing: header) }?.message.contains("byte order") == true)
        #expect(error { _ = try ObjectFile(parsing: Array(header[0..<40])) }?.message.contains("truncated") == true)
    }

    @Test(.enabled(if: ObjectFixtures.clangAvailable, "needs clang"))
    func headerFields() throws {
        var patcher = try Patcher(try ObjectFixtures.compile("globals").bytes)
        patcher.write(62, at: 18, size: 2)  // EM_X86_64
        #expect(error { _ = try patcher.object() }?.kind == .notBPFObject)
        patcher = try Patcher(try ObjectFixtures.compile("globals").bytes)
        patcher.write(2, at: 16, size: 2)  // ET_EXEC
        #expect(error { _ = try patcher.object() }?.kind == .notBPFObject)
        patcher = try Patcher(try ObjectFixtures.compile("globals").bytes)
        patcher.write(UInt64(patcher.bytes.count), at: 40, size: 8)
        let tableError = error { _ = try patcher.object() }
        #expect(tableError?.kind == .malformedELF)
        #expect(tableError?.message.contains("section header table") == true)
        patcher = try Patcher(try ObjectFixtures.compile("globals").bytes)
        patcher.write(0xffff, at: 62, size: 2)  // SHN_XINDEX, and section 0 says 0
        #expect(error { _ = try patcher.object() }?.kind == .malformedELF)
    }

    @Test(.enabled(if: ObjectFixtures.clangAvailable, "needs clang"))
    func sectionsOutsideTheFileAreNamed() throws {
        var patcher = try Patcher(try ObjectFixtures.compile("globals").bytes)
        patcher.write(0x7fff_0000, at: try patcher.sectionField("xdp", 24), size: 8)
        let failure = try #require(error { _ = try patcher.object() })
        #expect(failure.kind == .malformedELF)
        #expect(failure.section == "xdp")
        #expect(failure.description.hasPrefix("section 'xdp': contents"))

        // A broken DWARF section is never read, as with libbpf.
        patcher = try Patcher(try ObjectFixtures.compile("globals").bytes)
        patcher.write(0x7fff_0000, at: try patcher.sectionField(".debug_info", 24), size: 8)
        #expect(try patcher.object().programs.count == 1)
    }

    @Test(.enabled(if: ObjectFixtures.clangAvailable, "needs clang"))
    func symbolTableProblems() throws {
        var patcher = try Patcher(try ObjectFixtures.compile("globals").bytes)
        patcher.write(1, at: try patcher.sectionField(".symtab", 4), size: 4)  // SHT_PROGBITS
        #expect(error { _ = try patcher.object() }?.message.contains("no symbol table") == true)

        patcher = try Patcher(try ObjectFixtures.compile("globals").bytes)
        patcher.write(0xffff_ff00, at: try patcher.symbolField("counter", 0), size: 4)
        let name = try #require(error { _ = try patcher.object() })
        #expect(name.kind == .malformedELF && name.section == ".symtab")
        #expect(name.message.contains("name offset"))
    }

    @Test(.enabled(if: ObjectFixtures.clangAvailable, "needs clang"))
    func programSymbols() throws {
        var patcher = try Patcher(try ObjectFixtures.compile("globals").bytes)
        patcher.write(0x02, at: try patcher.symbolField("use_globals", 4), size: 1)  // STB_LOCAL, STT_FUNC
        let local = try #require(error { _ = try patcher.object() })
        #expect(local.kind == .badProgram && local.symbol == "use_globals" && local.section == "xdp")
        #expect(local.message.contains("static"))

        patcher = try Patcher(try ObjectFixtures.compile("globals").bytes)
        let size = try #require(patcher.elf.symbols.first { $0.name == "use_globals" }).size
        patcher.write(size - 4, at: try patcher.symbolField("use_globals", 16), size: 8)
        #expect(error { _ = try patcher.object() }?.kind == .badProgram)

        patcher = try Patcher(try ObjectFixtures.compile("globals").bytes)
        patcher.write(size + 8, at: try patcher.symbolField("use_globals", 16), size: 8)
        let crossing = try #require(error { _ = try patcher.object() })
        #expect(crossing.message.contains("crosses the end of the section"))
    }

    @Test(.enabled(if: ObjectFixtures.clangAvailable, "needs clang"))
    func relocationsThatPointWrong() throws {
        let original = try Patcher(try ObjectFixtures.compile("globals").bytes)
        let relocations = try #require(original.elf.section(named: ".relxdp"))
        let code = try original.elf.contents(of: try #require(original.elf.section(named: "xdp")))
        // A slot that is neither lddw nor call (nor the second half of an lddw).
        var plain = 0
        var slot = 0
        while slot * 8 < code.count {
            let opcode = code[code.startIndex + slot * 8]
            if opcode == 0x18 { slot += 2; continue }
            if opcode != 0x85 { plain = slot; break }
            slot += 1
        }
        var patcher = original
        patcher.write(UInt64(plain * 8), at: Int(relocations.fileOffset), size: 8)
        let failure = try #require(error { _ = try patcher.object() })
        #expect(failure.kind == .badRelocation)
        #expect(failure.section == "xdp")
        #expect(failure.offset == plain * 8)
        #expect(failure.symbol != nil)
        #expect(failure.message.contains("cannot be relocated"))

        patcher = original
        patcher.write(4, at: Int(relocations.fileOffset), size: 8)  // not a multiple of 8
        #expect(error { _ = try patcher.object() }?.message.contains("invalid offset") == true)

        patcher = original
        patcher.write(0xffff, at: Int(relocations.fileOffset) + 12, size: 4)  // symbol index
        let symbol = try #require(error { _ = try patcher.object() })
        #expect(symbol.kind == .badRelocation && symbol.section == ".relxdp" && symbol.offset == 0)
    }

    @Test(.enabled(if: ObjectFixtures.clangAvailable, "needs clang"))
    func corruptBTFIsFatalOnlyWhenMapsNeedIt() throws {
        var patcher = try Patcher(try ObjectFixtures.compile("maps").bytes)
        let btf = try #require(patcher.elf.section(named: ".BTF"))
        patcher.write(0x1234, at: Int(btf.fileOffset), size: 2)
        let failure = try #require(error { _ = try patcher.object() })
        #expect(failure.kind == .badBTF && failure.section == ".BTF")

        patcher = try Patcher(try ObjectFixtures.compile("subprograms").bytes)
        let other = try #require(patcher.elf.section(named: ".BTF"))
        patcher.write(0x1234, at: Int(other.fileOffset), size: 2)
        let object = try patcher.object()
        #expect(object.btf == nil && object.btfExt == nil)
        #expect(object.warnings.first?.section == ".BTF")
        #expect(object.programs.count == 5)
        #expect(object.programs.allSatisfy { $0.lineInfo.isEmpty })
    }

    @Test(.enabled(if: ObjectFixtures.clangAvailable, "needs clang"))
    func mapDefinitionsLibbpfRefuses() throws {
        let unknownField = try ObjectFixtures.compile(source: """
            #include "swiftbpf_helpers.h"
            struct { __uint(type, BPF_MAP_TYPE_ARRAY); __uint(max_entries, 1); __uint(flavour, 3); } odd SEC(".maps");
            SEC("xdp") int use(void *ctx) { return bpf_map_lookup_elem(&odd, 0) != 0; }
            """, named: "unknown_field")
        let unknown = try #require(error { _ = try ObjectFile(parsing: unknownField) })
        #expect(unknown.kind == .unsupported && unknown.symbol == "odd" && unknown.message.contains("'flavour'"))

        let noType = try ObjectFixtures.compile(source: """
            #include "swiftbpf_helpers.h"
            struct { __uint(max_entries, 1); } untyped SEC(".maps");
            SEC("xdp") int use(void *ctx) { return bpf_map_lookup_elem(&untyped, 0) != 0; }
            """, named: "no_type")
        #expect(error { _ = try ObjectFile(parsing: noType) }?.message.contains("map type is not specified") == true)

        let conflicting = try ObjectFixtures.compile(source: """
            #include "swiftbpf_helpers.h"
            struct { __uint(type, BPF_MAP_TYPE_HASH); __uint(key_size, 8); __type(key, int); } both SEC(".maps");
            SEC("xdp") int use(void *ctx) { return bpf_map_lookup_elem(&both, 0) != 0; }
            """, named: "conflicting")
        #expect(error { _ = try ObjectFile(parsing: conflicting) }?.message.contains("conflicting key size 8 != 4") == true)

        let legacy = try ObjectFixtures.compile(source: """
            #include "swiftbpf_helpers.h"
            struct big_def { struct bpf_map_def def; unsigned int pinning; };
            struct big_def SEC("maps") pinned = { .def = { .type = BPF_MAP_TYPE_ARRAY, .key_size = 4, .value_size = 4, .max_entries = 1 }, .pinning = 2 };
            SEC("xdp") int use(void *ctx) { return bpf_map_lookup_elem(&pinned, 0) != 0; }
            """, named: "legacy_options")
        let options = try #require(error { _ = try ObjectFile(parsing: legacy) })
        #expect(options.kind == .badMap && options.section == "maps" && options.symbol == "pinned" && options.offset == 20)
    }

    @Test(.enabled(if: ObjectFixtures.clangAvailable, "needs clang"))
    func uninitialisedGlobalsAreCommonSymbols() throws {
        // `-fcommon` puts uninitialised globals in SHN_COMMON, which libbpf refuses.
        let source = """
            #include "swiftbpf_helpers.h"
            int shared __attribute__((common));
            SEC("xdp") int use(void *ctx) { return shared; }
            """
        guard let bytes = try? ObjectFixtures.compile(source: source, named: "common") else { return }
        if let failure = error({ _ = try ObjectFile(parsing: bytes) }) {
            #expect(failure.kind == .badRelocation)
        }
    }
}
