import BPFInstructions
import BPFObject
import Foundation
import TestPeers

/// The CO-RE fixtures and peers: the program objects (`Fixtures/core-*.bpf.c`), the
/// synthetic "kernels" they are relocated against (`Fixtures/core-*-target.c`, as BTF),
/// and libbpf's own decisions as `bpftool -d gen min_core_btf` logs them.
enum CORETestSupport {
    /// `Fixtures/<name>.c` compiled with clang -g, its `.BTF` parsed, and the object's path
    /// (bpftool reads the BTF from the object itself).
    static func target(_ name: String, in directory: URL) throws -> (btf: BTF, path: String) {
        let fixture = try BTFTestSupport.compile(name, target: "bpfel", into: directory)
        return (try BTF(parsing: fixture.btf), fixture.object.path)
    }

    /// The poisoned instruction libbpf leaves where a relocation found nothing.
    static let poison = RawInstruction(opcode: 0x85, imm: 0xbad2310)

    /// Decisions whose relocation has this access string, kind and local root name.
    static func decisions(_ result: CORERelocationResult, _ access: String, _ kind: CORERelocationKind,
                          root: String, in btf: BTF) -> [CORERelocationDecision] {
        result.decisions.filter {
            $0.relocation.accessString == access && $0.relocation.kind == kind && btf.name(of: $0.relocation.typeID) == root
        }
    }

    /// The first decision of a list, or an error naming what was looked for.
    static func first(_ decisions: [CORERelocationDecision], _ what: String) throws -> CORERelocationDecision {
        guard let first = decisions.first else { throw BTFTestSupport.ProcessFailure(description: "no relocation for \(what)") }
        return first
    }

    /// Our explanation of every relocation in the object's `.BTF.ext`, section by section,
    /// as libbpf logs them: `prog '<section>': relo #N: ...`.
    static func ourLog(_ object: ObjectFile, target: BTF) throws -> [String] {
        guard let local = object.btf, let ext = object.btfExt else { return [] }
        var relocator = CORERelocator(localBTF: local, targetBTF: target)
        var lines: [String] = []
        for section in ext.coreRelocations {
            for (index, record) in section.records.enumerated() {
                let decision = try relocator.resolve(record, index: index)
                lines += decision.explanation(localBTF: local, targetBTF: target).map { "prog '\(section.name)': \($0)" }
            }
        }
        return lines
    }

    /// libbpf's relocation log for `object` against the BTF in `target` (a raw BTF file or
    /// an object), from `bpftool -d gen min_core_btf`, which runs libbpf's
    /// `bpf_core_calc_relo_insn` on every relocation; nil when bpftool is absent.
    static func bpftoolLog(target: String, object: String, directory: URL) throws -> [String]? {
        guard let bpftool = BTFTestSupport.findExecutable("bpftool") else { return nil }
        let result = try Subprocess.run(bpftool, ["-d", "gen", "min_core_btf", target,
                                                  directory.appendingPathComponent("min.btf").path, object])
        let log = result.errors
        guard result.status == 0 else {
            throw BTFTestSupport.ProcessFailure(description: "bpftool gen min_core_btf failed:\n\(log.suffix(2000))")
        }
        return log.split(separator: "\n").compactMap { line in
            guard line.contains(": relo #"), let start = line.range(of: "prog '") else { return nil }
            return String(line[start.lowerBound...])
        }
    }

    /// The first differing lines of two logs.
    static func differences(_ ours: [String], _ theirs: [String]) -> [String] {
        BTFTestSupport.mismatches(ours, theirs, limit: 8)
    }
}
