#if os(Linux)
import BPFInstructions
import BPFLinux
import BPFObject
import Foundation
import Glibc
import TestPeers
import Testing

/// The Linux verifier as the reference: loads a program with BPF_PROG_LOAD (creating the
/// maps it names and closing everything again) and reports the verdict and the kernel's log.
enum KernelPeer {
    struct Verdict {
        var accepted: Bool
        var log: String
        /// "verification time N usec" from the log's statistics.
        var verificationMicroseconds: Int?
    }

    /// Whether bpf(2) works here; else the test skips (or fails under SWIFTBPF_REQUIRE_KERNEL=1).
    static func available(sourceLocation: SourceLocation = #_sourceLocation) -> Bool {
        do {
            try KernelTestLock.run { try Map(type: .array, keySize: 4, valueSize: 4, maxEntries: 1).close() }
            return true
        } catch {
            KernelRequirement.unavailable(error, sourceLocation: sourceLocation)
            return false
        }
    }

    /// Loads `program` as `type`; `maps` are created for `lddw map[idx:N]` / `map_value[idx:N]`,
    /// which are rewritten to the new maps' fds. Call under `KernelTestLock`.
    static func verify(_ program: Program, type: ProgramType, maps: [CorpusProgram.MapDefinition] = [],
                       expectedAttachType: AttachType? = nil) throws -> Verdict {
        let created = try maps.map { try Map(type: $0.type, keySize: $0.keySize, valueSize: $0.valueSize, maxEntries: $0.maxEntries) }
        defer { for map in created { map.close() } }
        var instructions: [Instruction] = []
        for (_, instruction) in program.instructions {
            if case .loadImmediate64(let dst, let source, let imm, let nextImm) = instruction,
               source == .mapIndex || source == .mapIndexValue, Int(imm) < created.count, imm >= 0 {
                let fd = created[Int(imm)].fileDescriptor.rawValue
                instructions.append(.loadImmediate64(dst: dst, source: source == .mapIndex ? .mapFD : .mapValue, imm: fd, nextImm: nextImm))
            } else {
                instructions.append(instruction)
            }
        }
        let patched = try Program(instructions)
        // Level 1 | BPF_LOG_STATS: the log ends with the verification time.
        let options = KernelProgram.LoadOptions(logLevel: 1 | 4, logSize: 4 << 20)
        do {
            let loaded = try KernelProgram(patched, type: type, name: "verifier_test", expectedAttachType: expectedAttachType,
                                           options: options)
            defer { loaded.close() }
            let log = loaded.verifierLog ?? ""
            return Verdict(accepted: true, log: log, verificationMicroseconds: verificationTime(log))
        } catch {
            let log = error.log ?? ""
            // No permission or no memory says nothing about the program.
            if error.errno == EPERM || error.errno == ENOMEM { throw error }
            return Verdict(accepted: false, log: log, verificationMicroseconds: verificationTime(log))
        }
    }

    /// Loads a program of a compiled object with its maps. Call under `KernelTestLock`.
    static func verify(_ spec: ProgramSpec, object: ObjectFile) throws -> Verdict {
        let btf = try? LoadedBTF(object: object)
        defer { btf?.close() }
        let maps = try object.maps.map { spec in
            var spec = spec
            // As libbpf does: a perf event array gets one slot per CPU.
            if spec.type == .perfEventArray && spec.maxEntries == 0 { spec.maxEntries = UInt32(sysconf(Int32(_SC_NPROCESSORS_CONF))) }
            return try Map(spec: spec, btf: btf)
        }
        defer { for map in maps { map.close() } }
        let options = KernelProgram.LoadOptions(logLevel: 1 | 4, logSize: 4 << 20)
        do {
            let loaded = try KernelProgram(spec, maps: maps, btf: btf, options: options)
            defer { loaded.close() }
            let log = loaded.verifierLog ?? ""
            return Verdict(accepted: true, log: log, verificationMicroseconds: verificationTime(log))
        } catch {
            return Verdict(accepted: false, log: error.log ?? "\(error)", verificationMicroseconds: nil)
        }
    }

    static func verificationTime(_ log: String) -> Int? {
        guard let range = log.range(of: "verification time ") else { return nil }
        return Int(log[range.upperBound...].prefix { $0.isNumber })
    }

    /// bpf descriptors open in this process, for a leak check around a test.
    static func openBPFDescriptors() -> Int {
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd")) ?? []
        return entries.filter {
            let target = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/fd/\($0)")) ?? ""
            return target.hasPrefix("anon_inode:bpf") || target == "anon_inode:btf"
        }.count
    }
}
#endif
