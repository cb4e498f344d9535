import ArgumentParser
import BPFLinux
import BPFObject
import Foundation

struct FeatureCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "feature",
        abstract: "Probe which program types, map types and helpers this kernel supports (bpftool feature probe).",
        discussion: """
            Each program type is probed by loading a two-instruction program of that type, each \
            map type by creating a one-entry map, and each helper, for each supported program \
            type, by loading a program that calls it: the verifier names helpers a type may not \
            call. Helper probing loads a few thousand programs and takes some seconds; \
            --no-helpers skips it. Needs root (or CAP_BPF).

            Examples:
              swiftbpf feature
              swiftbpf feature --no-helpers
              swiftbpf feature --json | jq '.helpers.xdp'
            """)

    @Flag(help: "Print the result as JSON.") var json = false
    @Flag(inversion: .prefixedNo, help: "Probe helpers for each program type.") var helpers = true

    func run() throws {
        let programTypes = ProgramType.allCases.filter { $0 != .unspecified }
        // Every type this build names: the raw values up to the first it does not.
        let mapTypes = (1..<UInt32(64)).map { MapType(rawValue: $0) }.prefix { if case .other = $0 { false } else { true } }
        let programs = programTypes.map { ($0, FeatureProbe.supports($0)) }
        let maps = mapTypes.map { ($0, FeatureProbe.supports($0)) }
        if !programs.contains(where: \.1) && !maps.contains(where: \.1) {
            throw CommandError("no program or map type could be loaded: bpf(2) is not permitted here (run as root)")
        }
        var helperTable: [(ProgramType, [String])] = []
        if helpers {
            let known = try kernel("cannot list the kernel's helpers") { () throws(BPFError) in try FeatureProbe.helpers() }
            for (type, supported) in programs where supported {
                helperTable.append((type, known.filter { FeatureProbe.supports(helper: $0.id, for: type) }.map(\.name)))
            }
        }
        if json {
            var object: [String: Any] = [
                "program_types": Dictionary(uniqueKeysWithValues: programs.map { ($0.0.kernelName, $0.1) }),
                "map_types": Dictionary(uniqueKeysWithValues: maps.map { ($0.0.kernelName, $0.1) }),
            ]
            if helpers { object["helpers"] = Dictionary(uniqueKeysWithValues: helperTable.map { ($0.0.kernelName, $0.1) }) }
            print(try jsonText(object))
            return
        }
        print("Scanning eBPF program types...")
        for (type, supported) in programs { print("eBPF program_type \(type.kernelName) is \(supported ? "" : "NOT ")available") }
        print("\nScanning eBPF map types...")
        for (type, supported) in maps { print("eBPF map_type \(type.kernelName) is \(supported ? "" : "NOT ")available") }
        if helpers {
            print("\nScanning eBPF helper functions...")
            for (type, names) in helperTable {
                print("eBPF helpers supported for program type \(type.kernelName):")
                for name in names { print("\t- bpf_\(name)") }
            }
        }
    }
}
