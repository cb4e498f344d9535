import BPFInstructions
import BPFObject
import Foundation
import Testing

/// `BTF.cHeader` on the project's C fixtures: the text bpftool writes for the same
/// object, a header that compiles, and layouts that survive the round trip through C.
@Suite(.enabled(if: BTFTestSupport.toolchainMissing == nil, "needs clang and llvm-objcopy"))
struct BTFCHeaderTests {
    private func withDirectory(_ body: (URL) throws -> Void) throws {
        let directory = try BTFTestSupport.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        try body(directory)
    }

    /// Every fixture object: our header equals bpftool's, compiles, and reproduces
    /// every struct's, union's and enum's layout.
    @Test(arguments: ["cheader-types", "btf-kinds", "btf-core", "core-target"])
    func fixtureHeader(name: String) throws {
        try withDirectory { directory in
            let fixture = try BTFTestSupport.compile(name, target: "bpfel", into: directory)
            try check(object: fixture.object.path, btf: try BTF(parsing: fixture.btf), in: directory)
        }
    }

    @Test(arguments: ObjectFixtures.names + ["core-kinds"])
    func objectFixtureHeader(name: String) throws {
        try withDirectory { directory in
            let compiled = try ObjectFixtures.compile(name)
            let object = try ObjectFile(parsing: compiled.bytes, name: name)
            let btf = try #require(object.btf)
            try check(object: compiled.path, btf: btf, in: directory)
        }
    }

    private func check(object: String, btf: BTF, in directory: URL) throws {
        let header = try btf.cHeader()
        if let reference = try BTFCHeaderSupport.bpftoolHeader(object) {
            let differences = BTFCHeaderSupport.differences(BTFCHeaderSupport.comparable(header, with: reference), reference)
            #expect(differences.isEmpty, "\(object):\n\(differences.joined(separator: "\n"))")
        } else {
            #expect(!BTFTestSupport.peersRequired, "bpftool is not installed")
        }
        // A header without records has nothing to lay out.
        guard !BTFCHeaderSupport.definedNames(header).isEmpty else { return }
        let probe = try BTFCHeaderSupport.compileProbe(header: header, in: directory)
        let layout = BTFCHeaderSupport.layoutDifferences(original: btf, probe: probe)
        #expect(layout.differences.isEmpty, "\(object):\n\(layout.differences.prefix(10).joined(separator: "\n"))")
    }

    /// The constructs the fixture exists for, written as C wants them.
    @Test func cSyntax() throws {
        try withDirectory { directory in
            let fixture = try BTFTestSupport.compile("cheader-types", target: "bpfel", into: directory)
            let header = try BTF(parsing: fixture.btf).cHeader()
            let expected = [
                "#ifndef __VMLINUX_H__\n#define __VMLINUX_H__\n",
                "#pragma clang attribute push (__attribute__((preserve_access_index)), apply_to = record)",
                // The cycle list -> node -> list: node is declared first, defined later.
                "typedef unsigned long long u64;\n\nstruct node;\n\nstruct list {\n\tstruct node *head;\n\tstruct list *self;",
                "struct node {\n\tstruct list *owner;\n\tstruct node *next;\n\tint value;\n};",
                "struct bits {\n\tunsigned int a: 3;\n\tunsigned int b: 5;\n\tint c: 10;\n\tunsigned long long d: 40;\n\tchar e;\n\tunsigned short f: 4;\n};",
                "struct packed_thing {\n\tchar c;\n\tint i;\n\tlong long l;\n} __attribute__((packed));",
                "struct aligned_thing {\n\tchar c;\n\tlong: 64;\n\tlong long l;\n\tchar tail;\n};",
                "\tint cells[3][4][5];\n\tchar names[2][8];\n\tconst char *labels[4];",
                "typedef int (*handler_t)(void *, int);",
                "typedef void callback_fn(int);",
                "\tvoid (*close)(void);\n\thandler_t handlers[4];\n\tcallback_fn *callback;\n\tint (* (*factory)(int))(long);\n\tvoid (*variadic)(const char *, ...);",
                "\tstruct {\n\t\tint x;\n\t\tunion {\n\t\t\tint y;\n\t\t\tfloat f;\n\t\t};\n\t} inner;\n\tenum {\n\t\tNESTED_A = 0,\n\t\tNESTED_B = 5,\n\t} kind;",
                "\tstruct {\n\t\tstruct nested *parent;\n\t} *link;",
                "struct empty {};",
                "enum tiny {\n\tTINY_A = 0,\n\tTINY_B = 1,\n} __attribute__((mode(byte)));",
                "enum wide64 {\n\tWIDE_SMALL = 1ULL,\n\tWIDE_BIG = 4294967296ULL,\n};",
                "\tvolatile const int *cv;\n\tint * restrict r;\n\tconst char * const names[2];",
                "\tint __attribute__((btf_type_tag(\"user\"))) *user_pointer;",
                "struct dup {\n\tint a;\n};\n\nstruct dup___2 {\n\tlong b;\n\tchar c;\n};",
                "SIGNED_MINUS = -1,",
                "#pragma clang attribute pop\n#endif\n\n#endif /* __VMLINUX_H__ */\n",
            ]
            for text in expected { #expect(header.contains(text), "missing:\n\(text)") }
            let node = try #require(header.range(of: "struct node {"))
            let list = try #require(header.range(of: "struct list {"))
            #expect(list.lowerBound < node.lowerBound, "struct list is defined before struct node")
        }
    }

    /// Byte order changes the blob, not the types: both give the same header.
    @Test func bothByteOrdersGiveTheSameHeader() throws {
        try withDirectory { directory in
            let little = try BTFTestSupport.compile("cheader-types", target: "bpfel", into: directory)
            let big = try BTFTestSupport.compile("cheader-types", target: "bpfeb", into: directory)
            #expect(try BTF(parsing: little.btf).cHeader() == BTF(parsing: big.btf).cHeader())
        }
    }

    /// `rootTypes` writes those types and what they need, nothing else.
    @Test func rootTypesLimitTheHeader() throws {
        try withDirectory { directory in
            let fixture = try BTFTestSupport.compile("cheader-types", target: "bpfel", into: directory)
            let btf = try BTF(parsing: fixture.btf)
            let list = try #require(btf.ids(named: "list", kind: .struct).first)
            let header = try btf.cHeader(rootTypes: [list])
            // node is only pointed to: declared, not defined.
            #expect(BTFCHeaderSupport.definedNames(header) == ["struct list"])
            #expect(header.contains("struct node;\n") && header.contains("typedef unsigned long long u64;"))
            #expect(!header.contains("struct bits"))
            #expect(try btf.cHeader(rootTypes: []).contains("#endif /* __VMLINUX_H__ */"))
        }
    }
}

/// Hand-built blobs: split BTF written on top of its base; type graphs C cannot declare,
/// and malformed ones, give errors naming the type.
@Suite struct BTFCHeaderBlobTests {
    @Test func splitBTFIsWrittenWithItsBase() throws {
        var baseBuilder = BTFBlobBuilder()
        baseBuilder.type(name: baseBuilder.string("int"), kind: .int, sizeOrType: 4, [0x0100_0020])
        baseBuilder.type(name: baseBuilder.string("base_thing"), kind: .struct, vlen: 1, sizeOrType: 4, [baseBuilder.string("a"), 1, 0])
        let base = try BTF(parsing: baseBuilder.blob())
        var split = BTFBlobBuilder()
        split.strings = []
        split.stringBase = UInt32(base.strings.count)
        // [3] struct module_thing { struct base_thing b; int *p; }  [4] int *
        split.type(name: split.string("module_thing"), kind: .struct, vlen: 2, sizeOrType: 16,
                   [split.string("b"), 2, 0, split.string("p"), 4, 64])
        split.type(kind: .pointer, sizeOrType: 1)
        let module = try BTF(parsing: split.blob(), base: base)
        let header = try module.cHeader()
        #expect(header.contains("""
            struct base_thing {
            	int a;
            };

            struct module_thing {
            	struct base_thing b;
            	int *p;
            };
            """))
    }

    @Test func structContainingItselfIsAnUnsatisfiableCycle() throws {
        var builder = BTFBlobBuilder()
        let name = builder.string("loop")
        // [1] struct loop { struct loop self; } (size 4 to pass the parser's bounds).
        builder.type(name: name, kind: .struct, vlen: 1, sizeOrType: 4, [builder.string("self"), 1, 0])
        let btf = try BTF(parsing: builder.blob())
        #expect(throws: BTFCHeaderError(.unsatisfiableCycle, typeID: 1)) { try btf.cHeader() }
    }

    @Test func anonymousStructReachingItselfThroughAPointerIsACycle() throws {
        var builder = BTFBlobBuilder()
        // [1] struct { [2] *next; }  [2] PTR -> [1]
        builder.type(kind: .struct, vlen: 1, sizeOrType: 8, [builder.string("next"), 2, 0])
        builder.type(kind: .pointer, sizeOrType: 1)
        builder.type(name: builder.string("holder"), kind: .typedef, sizeOrType: 1)
        let btf = try BTF(parsing: builder.blob())
        #expect(throws: BTFCHeaderError(.unsatisfiableCycle, typeID: 1)) { try btf.cHeader() }
    }

    @Test func qualifierLoopIsTooDeep() throws {
        var builder = BTFBlobBuilder()
        // [1] const -> [2] volatile -> [1]; [3] typedef t -> [1]
        builder.type(kind: .const, sizeOrType: 2)
        builder.type(kind: .volatile, sizeOrType: 1)
        builder.type(name: builder.string("t"), kind: .typedef, sizeOrType: 1)
        let btf = try BTF(parsing: builder.blob())
        #expect {
            try btf.cHeader()
        } throws: { error in
            (error as? BTFCHeaderError)?.reason == .nestingTooDeep
        }
    }

    @Test func hugePaddingIsRefused() throws {
        var builder = BTFBlobBuilder()
        builder.type(name: builder.string("int"), kind: .int, sizeOrType: 4, [0x0100_0020])
        // struct huge { int x; } of 64 MiB: the padding after x is not written out.
        builder.type(name: builder.string("huge"), kind: .struct, vlen: 1, sizeOrType: 64 << 20, [builder.string("x"), 1, 0])
        let btf = try BTF(parsing: builder.blob())
        #expect {
            try btf.cHeader()
        } throws: { error in
            guard case .paddingTooLarge? = (error as? BTFCHeaderError)?.reason else { return false }
            return (error as? BTFCHeaderError)?.typeID == 2
        }
    }

    /// Mutated fixture BTF: the header writer returns or throws, never traps or hangs.
    @Test(.enabled(if: BTFTestSupport.toolchainMissing == nil, "needs clang"))
    func mutatedBTFOnlyReturnsOrThrows() throws {
        let directory = try BTFTestSupport.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let seed = try BTFTestSupport.compile("cheader-types", target: "bpfel", into: directory).btf
        var state: UInt64 = 0xc0ffee
        func next() -> UInt64 {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return state >> 17
        }
        var written = 0, refused = 0
        for _ in 0..<3000 {
            var bytes = seed
            for _ in 0..<(1 + Int(next() % 4)) {
                let at = 24 + Int(next() % UInt64(bytes.count - 24))
                bytes[at] = UInt8(truncatingIfNeeded: next())
            }
            guard let btf = try? BTF(parsing: bytes) else { continue }
            if (try? btf.cHeaderBytes()) != nil { written += 1 } else { refused += 1 }
        }
        #expect(written > 0)
        print("C header fuzz: \(written) headers written, \(refused) refused")
    }
}
