import BPFInstructions
import BPFObject
import Testing

/// Symbolic disassembly of linked programs: names for maps, variables, functions, externs,
/// and the C source lines from BTF line info.
@Suite(.enabled(if: ObjectFixtures.clangAvailable, "needs clang"))
struct ObjectDisassemblerTests {
    @Test func namesTakeThePlaceOfRelocations() throws {
        let object = try ObjectFixtures.object("maps")
        let program = try #require(object.program(named: "use_maps"))
        let text = ObjectDisassembler.text(of: program, in: object, syntax: .kernel)
        #expect(text.contains("r1 = map[flows] ll"))
        #expect(text.contains("r1 = map[outer_array] ll"))
        #expect(text.contains("= map[jump_table] ll"))
        #expect(text.contains("; if (stats) stats->packets++;"))
        #expect(text.hasPrefix("use_maps:\n"))

        let loop = try ObjectFixtures.object("subprograms")
        let main = try #require(loop.program(named: "main_loop"))
        let loopText = ObjectDisassembler.text(of: main, in: loop, syntax: .kernel)
        #expect(loopText.contains("r2 = func[loop_body] ll"))
        #expect(loopText.contains("call leaf"))
        #expect(loopText.contains("\nloop_body:\n"))
        #expect(loopText.contains("map_value[.bss] ll <shared_total>"))
        #expect(loopText.contains("; bpf_loop(10, loop_body, &sum, 0);"))
        let conformance = ObjectDisassembler.text(of: main, in: loop, syntax: .conformance)
        #expect(conformance.contains("lddw %r2, func[loop_body]"))
    }

    @Test func externsAndGlobalsByName() throws {
        let object = try ObjectFixtures.object("externs")
        let program = try #require(object.program(named: "use_externs"))
        let text = ObjectDisassembler.text(of: program, in: object, syntax: .kernel)
        #expect(text.contains("= kconfig[LINUX_KERNEL_VERSION] ll"))
        #expect(text.contains("= ksym[bpf_prog_active] ll"))
        #expect(text.contains("call kfunc[bpf_task_acquire]"))

        let globals = try ObjectFixtures.object("globals")
        let use = try #require(globals.program(named: "use_globals"))
        let globalsText = ObjectDisassembler.text(of: use, in: globals, syntax: .kernel)
        #expect(globalsText.contains("map_value[.data] ll <counter>"))
        #expect(globalsText.contains("map_value[.rodata.str1.1] ll"))
        #expect(globalsText.contains("call bump"))
    }

    @Test func sourceLinesAppearOnceUntilTheLineChanges() throws {
        let object = try ObjectFixtures.object("subprograms")
        let program = try #require(object.program(named: "main_a"))
        let lines = ObjectDisassembler.lines(of: program, in: object, syntax: .kernel)
        var previous: ObjectDisassembler.Line?
        for line in lines {
            if case .source = line, case .source? = previous { Issue.record("two source lines in a row: \(line)") }
            previous = line
        }
        let instructions = lines.filter { if case .instruction = $0 { true } else { false } }.count
        #expect(instructions == program.program?.instructions.count)
        #expect(lines.contains(.source("return sub_a(1) + global_sub(2);")))
        #expect(lines.first == .function("main_a"))
    }
}
