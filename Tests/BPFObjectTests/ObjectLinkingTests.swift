import BPFInstructions
import BPFObject
import Testing

/// bpf-to-bpf linking of Fixtures/subprograms.bpf.c: each program gets the `.text`
/// functions it reaches, depth first in order of first call (libbpf's layout), with call
/// and function-address offsets rewritten, and its func/line info moved along.
@Suite(.enabled(if: ObjectFixtures.clangAvailable, "needs clang"))
struct ObjectLinkingTests {
    @Test func subprogramsAreAppendedDepthFirstInOrderOfFirstCall() throws {
        let object = try ObjectFixtures.object("subprograms")
        let layouts = Dictionary(uniqueKeysWithValues: object.programs.map { ($0.name, $0.functions.map(\.name)) })
        #expect(layouts == [
            "main_a": ["main_a", "sub_a", "leaf", "global_sub", "sub_c"],
            "main_b": ["main_b", "sub_c", "leaf"],
            "main_loop": ["main_loop", "loop_body", "leaf"],
            "main_plain": ["main_plain"],
            "main_exception": ["main_exception", "leaf", "exception_cb"],
        ])
        #expect(Set(object.subprograms.map(\.name))
                == ["leaf", "sub_a", "sub_c", "global_sub", "unused_sub", "loop_body", "exception_cb"])
    }

    @Test func linkedProgramsAreTheirFunctionsBackToBack() throws {
        let object = try ObjectFixtures.object("subprograms")
        for program in object.programs {
            var next = 0
            for function in program.functions {
                #expect(function.start == next, "\(program.name)/\(function.name)")
                let size = function.name == program.name
                    ? function.count
                    : try #require(object.subprograms.first { $0.name == function.name }).count
                #expect(function.count == size)
                next += function.count
            }
            #expect(next == program.instructions.count)
            #expect(program.program != nil, "\(program.name): \(String(describing: program.validationError))")
        }
    }

    @Test func everyCallLandsOnTheStartOfTheNamedFunction() throws {
        let object = try ObjectFixtures.object("subprograms")
        var calls = 0
        for program in object.programs {
            for (index, slot) in program.instructions.enumerated() {
                let isCall = slot.opcode == 0x85 && slot.src == 1
                let isAddress = slot.opcode == 0x18 && slot.src == PseudoSource.function.rawValue
                guard isCall || isAddress else { continue }
                let target = index + 1 + Int(slot.imm)
                let callee = try #require(program.functions.first { $0.start == target }, "\(program.name) slot \(index)")
                let relocation = try #require(program.relocation(at: index))
                if isCall {
                    #expect(relocation == .subprogramCall(name: callee.name, instruction: target))
                } else {
                    #expect(relocation == .functionAddress(name: callee.name, instruction: target))
                }
                calls += 1
            }
        }
        // main_a: sub_a, global_sub, sub_a→leaf, global_sub→sub_a, →sub_c, sub_c→leaf;
        // main_b: sub_c, →leaf; main_loop: &loop_body, leaf; main_exception: leaf.
        #expect(calls == 11)
    }

    @Test func callbacksAreFunctionAddresses() throws {
        let object = try ObjectFixtures.object("subprograms")
        let program = try #require(object.program(named: "main_loop"))
        let body = try #require(program.function(named: "loop_body"))
        let addresses = program.relocations.filter {
            if case .functionAddress = $0.target { true } else { false }
        }
        #expect(addresses.map(\.target) == [.functionAddress(name: "loop_body", instruction: body.start)])
    }

    @Test func twoProgramsInOneSectionKeepTheirOffsets() throws {
        let object = try ObjectFixtures.object("subprograms")
        let a = try #require(object.program(named: "main_a"))
        let b = try #require(object.program(named: "main_b"))
        #expect(a.sectionName == "kprobe/do_nanosleep" && b.sectionName == a.sectionName)
        #expect(a.sectionOffset == 0)
        #expect(b.sectionOffset == a.functions[0].count * 8)
        #expect(a.attachTarget == "do_nanosleep")
    }

    @Test func functionAndLineInfoFollowTheCode() throws {
        let object = try ObjectFixtures.object("subprograms")
        let btf = try #require(object.btf)
        for program in object.programs {
            // One func info per linked function, at its first slot, naming it.
            #expect(program.functionInfo.map(\.instructionIndex) == program.functions.map(\.start), "\(program.name)")
            #expect(program.functionInfo.map { btf.name(of: $0.typeID) } == program.functions.map(\.name), "\(program.name)")
            // Line info: starts at 0, inside the program, ascending within each function.
            #expect(program.lineInfo.first?.instructionIndex == 0)
            #expect(program.lineInfo.allSatisfy { $0.instructionIndex < program.instructions.count })
            for function in program.functions {
                let inside = program.lineInfo.filter { function.start..<function.start + function.count ~= $0.instructionIndex }
                #expect(inside.first?.instructionIndex == function.start, "\(program.name)/\(function.name)")
                #expect(inside.map(\.instructionIndex) == inside.map(\.instructionIndex).sorted())
            }
        }
        let main = try #require(object.program(named: "main_a"))
        let leaf = try #require(main.function(named: "leaf"))
        let leafLines = main.lineInfo.filter { leaf.start..<leaf.start + leaf.count ~= $0.instructionIndex }
        #expect(leafLines.contains { $0.line.contains("return x * 3 + shared_total;") })
        #expect(leafLines.allSatisfy { $0.fileName.hasSuffix("subprograms.bpf.c") })
    }

    @Test func globalVariablesInSubprogramsAreRelocatedPerCopy() throws {
        let object = try ObjectFixtures.object("subprograms")
        let bss = try #require(object.mapIndex(".bss"))
        // leaf reads shared_total; every program that links leaf gets its own reference.
        for name in ["main_a", "main_b", "main_loop", "main_exception"] {
            let program = try #require(object.program(named: name))
            let leaf = try #require(program.function(named: "leaf"))
            let inLeaf = program.relocations.filter { leaf.start..<leaf.start + leaf.count ~= $0.instruction }
            #expect(inLeaf.map(\.target) == [.mapValue(index: bss, offset: 0)], "\(name)")
        }
    }
}
