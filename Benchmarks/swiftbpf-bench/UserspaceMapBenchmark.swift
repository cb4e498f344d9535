import BPFInstructions
import BPFObject
import BPFVM
#if os(Linux)
import BPFLinux
#endif

/// `swiftbpf-bench maps`: what one map operation costs a program. BPFVM's userspace maps are
/// called as the helpers call them (through `any UserspaceMap`, raw pointers), 64 operations
/// per timed loop over 64 present keys; beside them the kernel's cost seen from a program: an
/// XDP program doing the same 64 operations in a loop, run with BPF_PROG_TEST_RUN and a repeat
/// count, the kernel's mean duration divided by 64. The kernel figure includes its loop (a few
/// instructions per operation), and so does ours. "update+delete" deletes a present key and
/// puts it back (a delete alone would find the key gone after the first run).
enum UserspaceMapBenchmark {
    static let operations = 64

    struct Case: Sendable {
        var name: String
        var spec: MapSpec
        /// The key of operation `index` (one of 64 present keys).
        var key: @Sendable (Int) -> [UInt8]
    }

    static func spec(_ type: MapType, key: UInt32, entries: UInt32 = 1024, flags: UInt32 = 0) -> MapSpec {
        MapSpec(name: "bench_\(type.kernelName)", sectionName: ".maps", origin: .btf, type: type, keySize: key, valueSize: 8,
                maxEntries: entries, flags: flags)
    }

    static func bytes<T: BitwiseCopyable>(_ value: T) -> [UInt8] { withUnsafeBytes(of: value) { Array($0) } }

    static let cases: [Case] = [
        Case(name: "array", spec: spec(.array, key: 4)) { bytes(UInt32($0)) },
        Case(name: "hash", spec: spec(.hash, key: 8)) { bytes(UInt64($0) &* 0x2545_F491) },
        Case(name: "lru_hash", spec: spec(.lruHash, key: 8)) { bytes(UInt64($0) &* 0x2545_F491) },
        // 10.0.x.0/24 prefixes, looked up and updated by /32 addresses inside them.
        Case(name: "lpm_trie", spec: spec(.longestPrefixMatchTrie, key: 8, flags: 1)) {
            bytes(UInt32(32)) + [10, 0, UInt8($0), 7]
        },
    ]

    static func run() throws {
        print("suite maps: ns per map operation from a program, \(operations) operations per loop over 64 keys, 8-byte values (release build)")
        print(pad("map", 10, left: true) + pad("operation", 16, left: true) + pad("BPFVM ns", 10) + pad("kernel ns", 11) + pad("BPFVM/kernel", 14))
        var sink = 0
        for benchmark in cases {
            let map = try makeUserspaceMap(spec: benchmark.spec)
            // The 64 keys present (an LPM trie holds their /24s).
            for index in 0..<64 {
                var key = benchmark.key(index)
                if benchmark.spec.type == .longestPrefixMatchTrie { key[0] = 24; key[7] = 0 }
                try (map as? UserspaceMapBase)?.update(key: key, value: bytes(UInt64(index)))
            }
            let keys = (0..<operations).map { benchmark.key($0) }
            let keyBlock = keys.flatMap { $0 }
            let keySize = Int(benchmark.spec.keySize)
            var value = UInt64(7)
            let user: [(String, Double)] = keyBlock.withUnsafeBytes { block in
                guard let base = block.baseAddress else { return [] }
                var results: [(String, Double)] = []
                results.append(("lookup", measure {
                    for index in 0..<operations {
                        if map.programLookup(key: base + index * keySize, cpu: 0) != nil { sink &+= 1 }
                    }
                } / Double(operations)))
                results.append(("update", measure {
                    for index in 0..<operations {
                        sink &+= Int(map.programUpdate(key: base + index * keySize, value: &value, flags: 0, cpu: 0))
                    }
                } / Double(operations)))
                if benchmark.spec.type != .array {
                    results.append(("update+delete", measure {
                        for index in 0..<operations {
                            sink &+= Int(map.programDelete(key: base + index * keySize))
                            sink &+= Int(map.programUpdate(key: base + index * keySize, value: &value, flags: 0, cpu: 0))
                        }
                    } / Double(operations)))
                }
                return results
            }
            for (operation, nanoseconds) in user {
                let kernel = kernelCost(benchmark, operation: operation, keys: keys)
                let ratio = kernel.map { format(nanoseconds / $0, decimals: 2) } ?? "—"
                print(pad(benchmark.name, 10, left: true) + pad(operation, 16, left: true) + pad(format(nanoseconds, decimals: 1), 10)
                      + pad(kernel.map { format($0, decimals: 1) } ?? "—", 11) + pad(ratio, 14))
            }
        }
        if sink == 0x5eed { print("") }
    }

    /// ns per operation in the kernel, or nil (and why, once) where bpf(2) is unavailable.
    static func kernelCost(_ benchmark: Case, operation: String, keys: [[UInt8]]) -> Double? {
#if os(Linux)
        do {
            let map = try Map(spec: benchmark.spec)
            defer { map.close() }
            for index in 0..<64 {
                var key = benchmark.key(index)
                if benchmark.spec.type == .longestPrefixMatchTrie { key[0] = 24; key[7] = 0 }
                try map.update(key: key, value: bytes(UInt64(index)))
            }
            let program = try KernelProgram(try loop(map: map.fileDescriptor.rawValue, operation: operation, keys: keys), type: .xdp,
                                            name: "bench_map_ops")
            defer { program.close() }
            let packet = [UInt8](repeating: 0, count: 64)
            var best = Double.infinity
            for _ in 0..<5 {
                let result = try program.testRun(data: packet, repeat: 20000)
                best = min(best, Double(result.duration) / Double(operations))
            }
            return best
        } catch {
            if !reportedKernelError {
                print("(kernel figures left out: \(error))")
                reportedKernelError = true
            }
            return nil
        }
#else
        return nil
#endif
    }

    nonisolated(unsafe) static var reportedKernelError = false

    /// The XDP program: for each of the keys, the key onto the stack, then the helper call(s).
    static func loop(map fd: Int32, operation: String, keys: [[UInt8]]) throws -> Program {
        var builder = ProgramBuilder()
        builder.append(.store(.double, base: .r10, offset: -24, source: .immediate(7)))  // the value
        builder.append(.arithmetic(.mov, .bits64, dst: .r6, source: .immediate(0)))
        builder.bind("loop")
        // Key number r6, built from r6 as `Case.key` builds it.
        for instruction in keyInstructions(keys: keys) { builder.append(instruction) }
        func call(_ helper: Int32) {
            builder.append(.loadImmediate64(dst: .r1, source: .mapFD, imm: fd, nextImm: 0))
            builder.append(.arithmetic(.mov, .bits64, dst: .r2, source: .register(.r10)))
            builder.append(.arithmetic(.add, .bits64, dst: .r2, source: .immediate(-16)))
            if helper == 2 {
                builder.append(.arithmetic(.mov, .bits64, dst: .r3, source: .register(.r10)))
                builder.append(.arithmetic(.add, .bits64, dst: .r3, source: .immediate(-24)))
                builder.append(.arithmetic(.mov, .bits64, dst: .r4, source: .immediate(0)))
            }
            builder.append(.call(helper: helper))
        }
        switch operation {
        case "lookup": call(1)
        case "update": call(2)
        default:
            call(3)
            call(2)
        }
        builder.append(.arithmetic(.add, .bits64, dst: .r6, source: .immediate(1)))
        builder.branch(.lt, dst: .r6, source: .immediate(Int32(operations)), to: "loop")
        builder.append(.arithmetic(.mov, .bits64, dst: .r0, source: .immediate(2)))
        builder.append(.exit)
        return try builder.build()
    }

    /// Instructions that write key number r6 to r10-16, the same bytes as `Case.key`.
    static func keyInstructions(keys: [[UInt8]]) -> [Instruction] {
        switch keys.first?.count {
        case 4:  // array: the index
            return [.store(.word, base: .r10, offset: -16, source: .register(.r6))]
        case 8 where keys.first?.first == 32:  // LPM: /32, 10.0.r6.7
            return [
                .store(.word, base: .r10, offset: -16, source: .immediate(32)),
                .store(.byte, base: .r10, offset: -12, source: .immediate(10)),
                .store(.byte, base: .r10, offset: -11, source: .immediate(0)),
                .store(.byte, base: .r10, offset: -10, source: .register(.r6)),
                .store(.byte, base: .r10, offset: -9, source: .immediate(7)),
            ]
        default:  // hash: r6 * 0x2545F491
            return [
                .arithmetic(.mov, .bits64, dst: .r7, source: .register(.r6)),
                .arithmetic(.mul, .bits64, dst: .r7, source: .immediate(0x2545_F491)),
                .store(.double, base: .r10, offset: -16, source: .register(.r7)),
            ]
        }
    }
}
