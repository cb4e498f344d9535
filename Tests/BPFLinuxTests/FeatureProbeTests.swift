#if os(Linux)
import Foundation
import Testing

/// `swiftbpf feature` against `bpftool feature probe kernel`: every program type and map type
/// both tools name gets the same answer. Types only one of them knows (newer ones than the
/// installed bpftool) are left out of the comparison.
@Suite struct FeatureProbeTests {
    @Test func programAndMapTypesAgreeWithBpftool() throws {
        guard KernelTestSupport.bpfAvailable(), FileManager.default.isExecutableFile(atPath: InspectionTests.executable),
              let theirs = try KernelTests.bpftoolJSON(["feature", "probe", "kernel"]) as? [String: Any],
              let ours = try InspectionTests.swiftbpfJSON(["feature", "--no-helpers", "--json"]) as? [String: Any] else { return }
        for (kind, suffix) in [("program_types", "_prog_type"), ("map_types", "_map_type")] {
            let mine = ours[kind] as? [String: Bool] ?? [:]
            let bpftool = (theirs[kind] as? [String: Bool] ?? [:]).reduce(into: [String: Bool]()) { result, entry in
                let name = entry.key.replacingOccurrences(of: "have_", with: "").replacingOccurrences(of: suffix, with: "")
                result[name] = entry.value
            }
            let shared = Set(mine.keys).intersection(bpftool.keys)
            #expect(shared.count >= 25, "\(kind): only \(shared.count) names in common")
            for name in shared.sorted() {
                #expect(mine[name] == bpftool[name], "\(kind) \(name): swiftbpf \(String(describing: mine[name])), bpftool \(String(describing: bpftool[name]))")
            }
        }
    }

    /// Helpers per program type against `bpftool feature probe kernel full` ("full" also
    /// probes the helpers that warn in the kernel log, as ours does). Helpers newer than the
    /// installed bpftool (it lists none of them for any type) are left out.
    @Test func helpersPerProgramTypeAgreeWithBpftool() throws {
        guard KernelTestSupport.bpfAvailable(), FileManager.default.isExecutableFile(atPath: InspectionTests.executable),
              let theirs = try KernelTests.bpftoolJSON(["feature", "probe", "kernel", "full"]) as? [String: Any],
              let ours = try InspectionTests.swiftbpfJSON(["feature", "--json"]) as? [String: Any] else { return }
        let bpftool = (theirs["helpers"] as? [String: [String]] ?? [:]).reduce(into: [String: Set<String>]()) { result, entry in
            result[entry.key.replacingOccurrences(of: "_available_helpers", with: "")] = Set(entry.value)
        }
        let mine = (ours["helpers"] as? [String: [String]] ?? [:]).mapValues { Set($0.map { "bpf_" + $0 }) }
        let knownToBpftool = bpftool.values.reduce(Set<String>()) { $0.union($1) }
        #expect(knownToBpftool.count >= 150, "bpftool listed only \(knownToBpftool.count) helpers")
        var compared = 0
        for (type, theirHelpers) in bpftool.sorted(by: { $0.key < $1.key }) {
            let myHelpers = mine[type]?.intersection(knownToBpftool) ?? []
            guard mine[type] != nil || !theirHelpers.isEmpty else { continue }
            compared += 1
            #expect(myHelpers == theirHelpers,
                    "\(type): only swiftbpf \(myHelpers.subtracting(theirHelpers).sorted()), only bpftool \(theirHelpers.subtracting(myHelpers).sorted())")
        }
        #expect(compared >= 20, "compared helpers for \(compared) program types")
    }
}
#endif
