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
}
#endif
