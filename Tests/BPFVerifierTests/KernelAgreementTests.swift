#if os(Linux)
import BPFInstructions
import BPFLinux
import BPFObject
import BPFVerifier
import Foundation
import TestPeers
import Testing

/// Agreement with the Linux verifier over the project's corpus: the hand-written programs,
/// C programs of every supported type (this target's and BPFLinuxTests' fixtures), and random
/// valid-looking socket filters. SwiftBPF must never accept what the kernel refuses; where
/// SwiftBPF refuses what the kernel accepts, the case is listed.
@Suite(.serialized) struct KernelAgreementTests {
    struct Outcome {
        var name: String
        var ours: Result<VerifiedProgram, Rejection>
        var kernel: KernelPeer.Verdict
        var oursAccepted: Bool { if case .success = ours { true } else { false } }
    }

    static let fixtureDirectories = [
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures"),
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("BPFLinuxTests/Fixtures"),
    ]

    /// Programs the kernel accepts and SwiftBPF refuses, and why.
    static let knownDisagreements: [String: String] = [:]

    /// The running kernel's types: for BTF-typed pointers, and CO-RE relocation of the fixtures
    /// that read kernel structs (both verifiers see the relocated program).
    static let kernelTypes: KernelTypes? = (try? Data(contentsOf: URL(fileURLWithPath: "/sys/kernel/btf/vmlinux")))
        .flatMap { try? BTF(parsing: Array($0)) }.map(KernelTypes.init)

    /// Fixtures of BPFLinuxTests this test does not compile, and why.
    static let notCompiled = ["collection_vmlinux.bpf.c": "includes a vmlinux.h that its own test generates first"]

    static func compile(_ source: URL) throws -> ObjectFile {
        let output = FileManager.default.temporaryDirectory.appendingPathComponent("swiftbpf-verifier-\(UUID().uuidString).o")
        defer { try? FileManager.default.removeItem(at: output) }
        _ = try Subprocess.output("/opt/swift/usr/bin/clang", [
            "-target", "bpf", "-O2", "-g", "-c", "-I/usr/include/x86_64-linux-gnu",
            "-I" + source.deletingLastPathComponent().path, source.path, "-o", output.path])
        return try ObjectFile(parsing: Array(try Data(contentsOf: output)), name: source.lastPathComponent)
    }

    @Test func agreementWithTheKernel() throws {
        guard KernelPeer.available() else { return }
        var outcomes: [Outcome] = []
        try KernelTestLock.run {
            let before = KernelPeer.openBPFDescriptors()
            defer { #expect(KernelPeer.openBPFDescriptors() == before, "bpf descriptors left open") }
            for entry in try CorpusProgram.all() {
                let ours = Result { () throws(Rejection) in
                    try Verifier.verify(entry.program, as: .kernel(entry.type), maps: entry.mapInfo,
                                        options: .init(kernelTypes: Self.kernelTypes))
                }
                let kernel = try KernelPeer.verify(entry.program, type: entry.type, maps: entry.maps)
                outcomes.append(Outcome(name: "hand-written \(entry.name)", ours: ours, kernel: kernel))
                #expect(kernel.accepted == entry.expectsAcceptance, "the kernel disagrees with \(entry.name)'s stated verdict:\n\(kernel.log.suffix(400))")
            }
            for directory in Self.fixtureDirectories {
                let sources = ((try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? [])
                    .filter { $0.hasSuffix(".bpf.c") && Self.notCompiled[$0] == nil }.sorted()
                for source in sources {
                    let object = try Self.compile(directory.appendingPathComponent(source))
                    for original in object.programs where ProgramKind.supportedTypes.contains(original.type) {
                        let spec = try Self.relocated(original, in: object)
                        let ours = Result { () throws(Rejection) in
                            try Verifier.verify(spec, maps: object.maps, btf: object.btf, options: .init(kernelTypes: Self.kernelTypes))
                        }
                        let kernel = try KernelPeer.verify(spec, object: object)
                        outcomes.append(Outcome(name: "\(source) \(spec.name)", ours: ours, kernel: kernel))
                    }
                }
            }
            var random = SeededGenerator(seed: 0xa9ee)
            for index in 0..<400 {
                let program = try ValidLookingPrograms.make(count: Int.random(in: 4...30, using: &random), inputSize: nil, using: &random)
                let ours = Result { () throws(Rejection) in try Verifier.verify(program, as: .kernel(.socketFilter)) }
                let kernel = try KernelPeer.verify(program, type: .socketFilter)
                outcomes.append(Outcome(name: "random socket filter \(index)", ours: ours, kernel: kernel))
            }
            for index in 0..<200 {
                guard let program = try? RandomProgram.make(count: Int.random(in: 1...8, using: &random), using: &random) else { continue }
                let ours = Result { () throws(Rejection) in try Verifier.verify(program, as: .kernel(.socketFilter)) }
                let kernel = try KernelPeer.verify(program, type: .socketFilter)
                outcomes.append(Outcome(name: "random instructions \(index)", ours: ours, kernel: kernel))
            }
        }
        let disagreements = outcomes.filter { $0.oursAccepted != $0.kernel.accepted }
        for outcome in disagreements {
            switch outcome.ours {
            case .success:
                print("DISAGREE \(outcome.name): SwiftBPF accepts, the kernel refuses: \(Self.lastLine(outcome.kernel.log))")
                print(outcome.kernel.log.split(separator: "\n").suffix(400).joined(separator: "\n"))
                if case .success(let verified) = outcome.ours,
                   let traced = try? Verifier.verify(verified.program, as: verified.kind, options: .init(recordsStates: true)) {
                    print(Disassembler.disassemble(verified.program, syntax: .kernel))
                    for (index, state) in traced.stateLog { print("ours \(index): \(state)") }
                }
            case .failure(let rejection):
                let reason = Self.knownDisagreements[outcome.name].map { "; known: \($0)" } ?? ""
                print("DISAGREE \(outcome.name): SwiftBPF refuses (\(rejection.index): \(rejection.message)), the kernel accepts\(reason)")
            }
        }
        let unsound = disagreements.filter(\.oursAccepted)
        let accepted = outcomes.filter(\.kernel.accepted).count
        print("verifier agreement: \(outcomes.count - disagreements.count) passed, \(disagreements.count) failed (kernel accepted \(accepted) of \(outcomes.count))")
        #expect(unsound.count == 0, "SwiftBPF accepted \(unsound.count) programs the kernel refuses")
        #expect(Double(outcomes.count - disagreements.count) >= 0.99 * Double(outcomes.count))
    }

    /// The program with its CO-RE relocations applied against the running kernel, as libbpf loads it.
    static func relocated(_ spec: ProgramSpec, in object: ObjectFile) throws -> ProgramSpec {
        guard let target = kernelTypes?.btf else { return spec }
        return try spec.relocatedForCORE(localBTF: object.btf, targetBTF: target)
    }

    static func lastLine(_ log: String) -> String {
        log.split(separator: "\n").last { !$0.hasPrefix("processed") && !$0.hasPrefix("verification time") && !$0.hasPrefix("stack depth") }
            .map(String.init) ?? ""
    }
}
#endif
