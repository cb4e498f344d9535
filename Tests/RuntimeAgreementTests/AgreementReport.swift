import BPFInstructions

/// The record-by-record comparison of two engines' outcomes for the same fixture and packets:
/// one check per packet (verdict and bytes after), one per map (every entry) and one per ring
/// buffer (every record, in order), each difference described with where and what.
struct AgreementReport {
    var passed = 0
    var failed = 0
    var differences: [String] = []

    var summary: String { "kernel agreement: \(passed) passed, \(failed) failed" }

    mutating func compare(_ fixture: RuntimeFixture, packets: [CorpusPackets.Packet],
                          kernel: FixtureOutcome, vm: FixtureOutcome) {
        guard kernel.packets.count == packets.count, vm.packets.count == packets.count else {
            fail("\(fixture): \(packets.count) packets, but the kernel gave \(kernel.packets.count) results and the VM \(vm.packets.count)")
            return
        }
        for (index, packet) in packets.enumerated() {
            let (expected, actual) = (kernel.packets[index], vm.packets[index])
            if expected == actual {
                passed += 1
            } else {
                fail("\(fixture) \(packet.location): kernel \(Self.describe(expected)); VM \(Self.describe(actual))"
                     + Self.firstDifference(expected, actual))
            }
        }
        for name in Set(kernel.maps.keys).union(vm.maps.keys).sorted() {
            let (expected, actual) = (kernel.maps[name] ?? [], vm.maps[name] ?? [])
            if kernel.maps[name] != nil && vm.maps[name] != nil && expected == actual {
                passed += 1
            } else {
                fail("\(fixture) map \(name): " + Self.mapDifference(expected, actual, inKernel: kernel.maps[name] != nil, inVM: vm.maps[name] != nil))
            }
        }
        for name in Set(kernel.records.keys).union(vm.records.keys).sorted() {
            let (expected, actual) = (kernel.records[name] ?? [], vm.records[name] ?? [])
            if expected == actual {
                passed += 1
            } else {
                let index = (0..<min(expected.count, actual.count)).first { expected[$0] != actual[$0] } ?? min(expected.count, actual.count)
                let first = index < min(expected.count, actual.count)
                    ? "; first different record #\(index): kernel \(Hex.short(expected[index])), VM \(Hex.short(actual[index]))" : ""
                fail("\(fixture) ring buffer \(name): kernel \(expected.count) records, VM \(actual.count)\(first)")
            }
        }
    }

    /// A difference found outside the comparison (one engine could not run the fixture).
    mutating func record(_ difference: String) { fail(difference) }

    private mutating func fail(_ difference: String) {
        failed += 1
        differences.append(difference)
    }

    static func describe(_ result: FixtureOutcome.PacketResult) -> String {
        switch result {
        case .finished(let verdict, let data): "verdict \(verdict), \(data.count) bytes"
        case .refused(let message): "refused: \(message)"
        case .failed(let message): "failed: \(message)"
        }
    }

    static func firstDifference(_ expected: FixtureOutcome.PacketResult, _ actual: FixtureOutcome.PacketResult) -> String {
        guard case .finished(_, let kernelBytes) = expected, case .finished(_, let vmBytes) = actual,
              let offset = (0..<min(kernelBytes.count, vmBytes.count)).first(where: { kernelBytes[$0] != vmBytes[$0] }) else { return "" }
        return "; bytes differ from offset \(offset): kernel \(Hex.short(Array(kernelBytes[offset...]))), VM \(Hex.short(Array(vmBytes[offset...])))"
    }

    static func mapDifference(_ expected: [FixtureOutcome.MapEntry], _ actual: [FixtureOutcome.MapEntry], inKernel: Bool, inVM: Bool) -> String {
        if !inKernel { return "only the VM has it (\(actual.count) entries)" }
        if !inVM { return "the VM has no such map (the kernel's has \(expected.count) entries)" }
        let kernelValues = Dictionary(expected.map { ($0.key, $0.value) }, uniquingKeysWith: { first, _ in first })
        let vmValues = Dictionary(actual.map { ($0.key, $0.value) }, uniquingKeysWith: { first, _ in first })
        var parts: [String] = []
        let onlyKernel = expected.filter { vmValues[$0.key] == nil }
        let onlyVM = actual.filter { kernelValues[$0.key] == nil }
        let changed = expected.filter { vmValues[$0.key] != nil && vmValues[$0.key] != $0.value }
        if !onlyKernel.isEmpty { parts.append("\(onlyKernel.count) keys only in the kernel (\(onlyKernel.prefix(3).map { Hex.short($0.key) }.joined(separator: ", ")))") }
        if !onlyVM.isEmpty { parts.append("\(onlyVM.count) keys only in the VM (\(onlyVM.prefix(3).map { Hex.short($0.key) }.joined(separator: ", ")))") }
        for entry in changed.prefix(5) {
            parts.append("key \(Hex.short(entry.key)): kernel \(Hex.short(entry.value)), VM \(Hex.short(vmValues[entry.key] ?? []))")
        }
        if changed.count > 5 { parts.append("\(changed.count - 5) more values differ") }
        return "\(expected.count) entries in the kernel, \(actual.count) in the VM; " + parts.joined(separator: "; ")
    }
}

extension Hex {
    /// At most the first 32 bytes in hex, "…" after.
    static func short(_ bytes: [UInt8]) -> String {
        Hex.string(bytes.prefix(32)) + (bytes.count > 32 ? "…" : "")
    }
}
