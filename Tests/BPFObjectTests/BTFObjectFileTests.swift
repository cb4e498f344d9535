import BPFInstructions
import BPFObject
import Foundation
import Testing

/// BTF and BTF.ext from the project's own C fixtures, compiled here with clang for both
/// byte orders: every kind decodes as written, bpftool prints the same raw dump, and the
/// CO-RE relocations are those llvm-objdump shows.
@Suite struct BTFObjectFileTests {
    /// Compiles a fixture, or returns nil after recording why it cannot.
    private func compile(_ name: String, target: String = "bpf", into directory: URL) throws -> BTFTestSupport.CompiledFixture? {
        if let missing = BTFTestSupport.toolchainMissing {
            #expect(!BTFTestSupport.peersRequired, "\(missing)")
            print("BTF fixture tests: skipped, \(missing)")
            return nil
        }
        return try BTFTestSupport.compile(name, target: target, into: directory)
    }

    private func withDirectory(_ body: (URL) throws -> Void) throws {
        let directory = try BTFTestSupport.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        try body(directory)
    }

    @Test(arguments: ["bpfel", "bpfeb"])
    func everyKindDecodes(target: String) throws {
        try withDirectory { directory in
            guard let fixture = try compile("btf-kinds", target: target, into: directory) else { return }
            let btf = try BTF(parsing: fixture.btf)
            #expect(btf.byteOrder == (target == "bpfeb" ? .big : .little))
            let kinds = Set(btf.ownIDs.compactMap { btf.kind(of: $0) })
            #expect(kinds == Set(BTFKind.allCases.filter { $0 != .void }), "missing: \(Set(BTFKind.allCases).subtracting(kinds))")

            func only(_ name: String, _ kind: BTFKind) -> BTFType? {
                let ids = btf.ids(named: name, kind: kind)
                #expect(ids.count == 1, "\(name): \(ids)")
                return ids.first.flatMap { btf.type($0) }
            }
            func memberNames(_ composite: BTFComposite) -> [String] {
                composite.members.map { btf.strings.string(at: $0.nameOffset) ?? "?" }
            }

            // Bitfields under the kind_flag.
            guard case .struct(let flags)? = only("flags", .struct)?.body else { Issue.record("flags"); return }
            #expect(flags.hasBitfieldSizes && flags.size == 24)
            #expect(memberNames(flags) == ["a", "b", "c", "wide", "on", "letter", "tiny"])
            #expect(flags.members.prefix(3).map(\.bitfieldSize) == [3, 5, 12])
            #expect(flags.members.prefix(4).map(\.bitOffset) == [0, 3, 8, 64])
            guard case .int(let bool) = btf.type(flags.members[flags.members.startIndex + 4].type)?.body else {
                Issue.record("_Bool"); return
            }
            #expect(bool.encoding == .bool && bool.size == 1)

            // Signed enum with a negative value; enum64 with a value above 32 bits.
            guard case .enum(let color)? = only("color", .enum)?.body else { Issue.record("color"); return }
            #expect(color.isSigned && color.values.map(\.signedValue) == [-1, 0, 7])
            guard case .enum64(let big)? = only("big", .enum64)?.body else { Issue.record("big"); return }
            #expect(!big.isSigned && big.size == 8 && big.values.map(\.unsignedValue) == [1, 0x12_3456_7890])

            #expect(only("opaque", .forward)?.body == .forward(.struct))
            #expect(only("opaque_union", .forward)?.body == .forward(.union))
            guard case .union(let number)? = only("number", .union)?.body else { Issue.record("number"); return }
            #expect(memberNames(number) == ["i", "f", "d", "raw"] && number.size == 8)
            #expect(only("float", .float)?.body == .float(size: 4))
            #expect(only("double", .float)?.body == .float(size: 8))

            // struct node: sizes through typedefs, qualifiers, nested arrays and pointers.
            let nodeID = try #require(btf.ids(named: "node", kind: .struct).first)
            guard case .struct(let node) = btf.type(nodeID)?.body else { Issue.record("node"); return }
            #expect(btf.size(of: nodeID) == 136)
            let member = { (name: String) in node.members.first { btf.strings.string(at: $0.nameOffset) == name } }
            let values = try #require(member("values"))
            #expect(btf.size(of: values.type) == 48)
            let counter = try #require(member("counter"))
            #expect(btf.kind(of: counter.type) == .const && btf.resolved(counter.type).flatMap { btf.name(of: $0) } == "int")
            let userPointer = try #require(member("user_pointer"))
            guard case .pointer(let tagged) = btf.type(userPointer.type)?.body else { Issue.record("user_pointer"); return }
            #expect(btf.kind(of: tagged) == .typeTag && btf.name(of: tagged) == "user")
            #expect(btf.size(of: userPointer.type) == 8 && btf.size(of: tagged) == 4)

            // Decl tags on the struct, a member, the function and a parameter.
            var tags: [String: Int32?] = [:]
            for id in btf.ownIDs {
                if case .declTag(let tag)? = btf.type(id)?.body, let name = btf.name(of: id) { tags[name] = tag.componentIndex }
            }
            #expect(tags == ["flags_tag": nil, "member_tag": 4, "func_tag": nil, "param_tag": 0])

            // Linkage of functions and variables; the variadic prototype.
            guard case .function(let helper)? = only("helper", .function)?.body else { Issue.record("helper"); return }
            #expect(helper.linkage == .static)
            guard case .functionPrototype(let helperPrototype) = btf.type(helper.type)?.body else { Issue.record("proto"); return }
            #expect(helperPrototype.parameters.map { btf.strings.string(at: $0.nameOffset) } == ["node", "out"])
            #expect(!helperPrototype.isVariadic && btf.name(of: helperPrototype.returnType) == "int")
            #expect(btf.kind(of: helperPrototype.parameters[helperPrototype.parameters.startIndex].type) == .restrict)
            guard case .function(let global)? = only("global_function", .function)?.body,
                  case .function(let external)? = only("kernel_function", .function)?.body
            else { Issue.record("functions"); return }
            #expect(global.linkage == .global && external.linkage == .extern)
            guard case .variable(let staticCounter)? = only("static_counter", .variable)?.body,
                  case .variable(let externalValue)? = only("external_value", .variable)?.body,
                  case .variable(let ratio)? = only("ratio", .variable)?.body
            else { Issue.record("variables"); return }
            #expect(staticCounter.linkage == .static && externalValue.linkage == .extern && ratio.linkage == .global)
            let printer = try #require(btf.ids(named: "printer", kind: .typedef).first)
            guard case .pointer(let prototypeID) = btf.type(btf.type(printer)?.referencedType ?? 0)?.body,
                  case .functionPrototype(let variadic) = btf.type(prototypeID)?.body
            else { Issue.record("printer"); return }
            #expect(variadic.isVariadic && variadic.parameters.count == 1)
            #expect(btf.size(of: prototypeID) == nil && btf.size(of: printer) == 8)

            // Data sections, before libbpf fixes their sizes up.
            guard case .dataSection(let bss)? = only(".bss", .dataSection)?.body else { Issue.record(".bss"); return }
            #expect(Set(bss.variables.compactMap { btf.name(of: $0.type) }) == ["global_node", "quad", "print_function"])
            #expect(btf.ids(named: ".ksyms", kind: .dataSection).count == 1)
        }
    }

    @Test(arguments: ["btf-kinds", "btf-core"], ["bpfel", "bpfeb"])
    func rawDumpMatchesBPFTool(fixtureName: String, target: String) throws {
        try withDirectory { directory in
            guard let fixture = try compile(fixtureName, target: target, into: directory) else { return }
            let btf = try BTF(parsing: fixture.btf)
            guard let reference = try BTFTestSupport.bpftoolDump(fixture.object.path) else {
                #expect(!BTFTestSupport.peersRequired, "bpftool is not installed")
                print("BTF bpftool comparison: skipped, bpftool is not installed")
                return
            }
            let ours = BTFTestSupport.rawDumpLines(btf)
            let mismatches = BTFTestSupport.mismatches(ours, reference)
            #expect(mismatches.isEmpty, "\(fixtureName) \(target):\n\(mismatches.joined(separator: "\n"))")
            #expect(ours.count == reference.count)
            if let json = try BTFTestSupport.bpftoolJSON(fixture.object.path) {
                #expect(BTFTestSupport.jsonDump(btf) == json, "\(fixtureName) \(target) JSON")
            }
        }
    }

    @Test(arguments: ["bpfel", "bpfeb"])
    func btfExtInfoAndRelocations(target: String) throws {
        try withDirectory { directory in
            guard let fixture = try compile("btf-core", target: target, into: directory) else { return }
            let btf = try BTF(parsing: fixture.btf)
            let ext = try BTFExt(parsing: try #require(fixture.btfExt), btf: btf)
            #expect(ext.byteOrder == btf.byteOrder)
            #expect(ext.functionInfoRecordSize == 8 && ext.lineInfoRecordSize == 16 && ext.coreRelocationRecordSize == 16)

            // Func info: one function per section, each naming a FUNC.
            let functions = Dictionary(uniqueKeysWithValues: ext.functionInfo.map { section in
                (section.name, section.records.map { btf.name(of: $0.typeID) ?? "?" })
            })
            #expect(functions == [".text": ["vm_size"], "kprobe/do_exit": ["read_fields"],
                                  "tracepoint/sched/sched_switch": ["field_facts"]])
            for record in ext.functionInfo.flatMap(\.records) { #expect(btf.kind(of: record.typeID) == .function) }

            // Line info: the source file and text of real lines.
            let lines = ext.lineInfo.flatMap(\.records)
            #expect(!lines.isEmpty && lines.allSatisfy { $0.fileName.hasSuffix("btf-core.c") })
            #expect(lines.contains { $0.line.contains("return task->mm->total_vm;") && $0.lineNumber == 24 })
            #expect(lines.allSatisfy { $0.lineNumber > 0 && $0.instructionOffset % 8 == 0 })

            // CO-RE: every relocation kind clang can emit, with the access strings it shows.
            let relocations = ext.coreRelocations.flatMap { section in section.records.map { (section.name, $0) } }
            #expect(Set(relocations.map(\.1.kind)) == Set(CORERelocationKind.allCases))
            let reads = relocations.filter { $0.0 == "kprobe/do_exit" }.map { "\($0.1.kind.name) \($0.1.accessString)" }
            #expect(reads == ["byte_off 0:0", "byte_off 0:1", "byte_off 0:5:3"])
            let task = try #require(btf.ids(named: "task_struct", kind: .struct).first)
            for (_, relocation) in relocations where relocation.kind == .fieldByteSize {
                #expect(relocation.typeID == task && relocation.accessIndexes == [0, 3])
            }
        }
    }

    /// Our CO-RE records against llvm-objdump's listing of them (`CO-RE <kind> [id] ...`).
    @Test func coreRelocationsMatchObjdump() throws {
        let objdump = "/opt/swift/usr/bin/llvm-objdump"
        guard FileManager.default.isExecutableFile(atPath: objdump) else {
            #expect(!BTFTestSupport.peersRequired, "llvm-objdump not found")
            print("BTF CO-RE comparison: skipped, llvm-objdump not found")
            return
        }
        try withDirectory { directory in
            guard let fixture = try compile("btf-core", into: directory) else { return }
            let btf = try BTF(parsing: fixture.btf)
            let ext = try BTFExt(parsing: try #require(fixture.btfExt), btf: btf)
            let listing = String(decoding: try BTFTestSupport.run(objdump, ["-d", "-r", fixture.object.path]), as: UTF8.self)
            // "0000000000000018:  CO-RE <byte_off> [2] struct task_struct::comm[3] (0:5:3)"
            var theirs: [String] = []
            var section = ""
            for line in listing.split(separator: "\n") {
                if line.hasPrefix("Disassembly of section ") {
                    section = String(line.dropFirst("Disassembly of section ".count).dropLast())
                }
                guard let range = line.range(of: ":  CO-RE <") else { continue }
                let offset = Int(line[..<range.lowerBound].trimmingCharacters(in: .whitespaces), radix: 16) ?? -1
                let rest = line[range.upperBound...]
                let kind = rest.prefix { $0 != ">" }
                let id = rest.drop { $0 != "[" }.dropFirst().prefix { $0 != "]" }
                theirs.append("\(section) \(offset) \(kind) \(id)")
            }
            let ours = ext.coreRelocations.flatMap { section in
                section.records.map { "\(section.name) \($0.instructionOffset) \($0.kind.name) \($0.typeID)" }
            }
            #expect(ours.sorted() == theirs.sorted())
            #expect(ours.count == 18)
        }
    }
}
