#if os(Linux)
import BPFInstructions
import BPFLinux
import BPFObject
import BPFVM
import Glibc
import Testing

/// The userspace maps against the kernel's: the same seeded random operations on a BPFLinux
/// `Map` and a BPFVM map of the same spec, step by step the same results and errnos, and the
/// same contents at the end.
@Suite struct UserspaceMapKernelTests {
    /// One kernel map and its userspace twin.
    final class Pair {
        let kernel: Map
        let user: UserspaceMapBase
        var log: [String] = []

        init(_ spec: MapSpec) throws {
            kernel = try Map(spec: spec)
            let made = try makeUserspaceMap(spec: spec, cpuCount: kernel.valueCount)
            guard let user = made as? UserspaceMapBase else { throw MapError(errno: 0, message: "not a UserspaceMapBase") }
            self.user = user
        }

        /// Runs one step on both and records a failure when they differ.
        func step(_ what: String, kernel: () throws -> String, user: () throws -> String,
                           sourceLocation: SourceLocation = #_sourceLocation) {
            let expected = Outcome.of(kernel)
            let actual = Outcome.of(user)
            log.append("\(what): \(expected)")
            #expect(actual == expected, "step \(log.count) \(what): kernel \(expected), userspace \(actual)\nlast steps: \(log.suffix(6))",
                    sourceLocation: sourceLocation)
        }

        func update(_ key: [UInt8], _ value: [UInt8], flags: UInt64) {
            step("update \(hex(key)) = \(hex(value)) flags \(flags)",
                 kernel: { try self.kernel.update(key: key, value: value, flags: Map.ElementFlags(rawValue: flags)); return "ok" },
                 user: { try self.user.update(key: key, value: value, flags: MapUpdateFlags(rawValue: flags)); return "ok" })
        }

        func lookup(_ key: [UInt8]) {
            step("lookup \(hex(key))", kernel: { hex(try self.kernel.lookup(key: key)) }, user: { hex(try self.user.lookup(key: key)) })
        }

        func delete(_ key: [UInt8]) {
            step("delete \(hex(key))", kernel: { "\(try self.kernel.delete(key: key))" }, user: { "\(try self.user.delete(key: key))" })
        }

        func lookupAndDelete(_ key: [UInt8]) {
            step("lookup and delete \(hex(key))", kernel: { hex(try self.kernel.lookupAndDelete(key: key)) },
                 user: { hex(try self.user.lookupAndDelete(key: key)) })
        }

        func nextKey(_ key: [UInt8]?, compareKey: Bool = true) {
            step("next key after \(hex(key))", kernel: {
                let next = try self.kernel.nextKey(after: key)
                return compareKey ? hex(next) : (next == nil ? "end" : "a key")
            }, user: {
                let next = try self.user.nextKey(after: key)
                return compareKey ? hex(next) : (next == nil ? "end" : "a key")
            })
        }

        /// The same entries; `ordered` when the kernel defines the order.
        func expectSameContents(ordered: Bool, sourceLocation: SourceLocation = #_sourceLocation) throws {
            let kernelEntries = try kernel.entries().map { "\(hex($0.key))=\(hex($0.value))" }
            let userEntries = try user.entries().map { "\(hex($0.key))=\(hex($0.value))" }
            #expect(Set(userEntries).count == userEntries.count, "a key came twice in the walk", sourceLocation: sourceLocation)
            if ordered {
                #expect(userEntries == kernelEntries, sourceLocation: sourceLocation)
            } else {
                #expect(userEntries.sorted() == kernelEntries.sorted(), sourceLocation: sourceLocation)
            }
        }

        /// How often each outcome came up: the errnos the sequence reached.
        var summary: String {
            var counts: [String: Int] = [:]
            for line in log {
                let outcome = line.split(separator: ": ").last.map(String.init) ?? ""
                counts[outcome.hasPrefix("errno") ? outcome : "results", default: 0] += 1
            }
            return counts.sorted { $0.key < $1.key }.map { "\($0.key) ×\($0.value)" }.joined(separator: ", ")
        }

        func close() {
            print("\(user.type.kernelName) '\(user.name)': \(log.count) steps agreed with the kernel: \(summary)")
            kernel.close()
        }
    }

    static func bytes(_ count: Int, _ random: inout SeededGenerator) -> [UInt8] {
        (0..<count).map { _ in UInt8.random(in: 0...255, using: &random) }
    }

    /// Mostly the three flags, sometimes one the kernel refuses (both, BPF_F_LOCK, 8).
    static func flags(_ random: inout SeededGenerator) -> UInt64 {
        [0, 0, 1, 1, 2, 2, 3, 4, 8].randomElement(using: &random) ?? 0
    }

    // MARK: Keyed maps

    static let keyedSpecs: [(String, MapSpec)] = [
        ("array", MapKernel.spec(.array, key: 4, value: 12, entries: 10)),
        ("percpu_array", MapKernel.spec(.perCPUArray, key: 4, value: 12, entries: 6)),
        ("hash", MapKernel.spec(.hash, key: 6, value: 12, entries: 16)),
        ("hash no prealloc", MapKernel.spec(.hash, key: 16, value: 8, entries: 12, flags: 1)),
        ("percpu_hash", MapKernel.spec(.perCPUHash, key: 8, value: 4, entries: 12)),
        ("lru_hash", MapKernel.spec(.lruHash, key: 4, value: 8, entries: 256)),
        ("lru_percpu_hash", MapKernel.spec(.lruPerCPUHash, key: 12, value: 8, entries: 256)),
    ]

    @Test(arguments: keyedSpecs.map(\.0))
    func keyedMapAgreesWithTheKernel(_ name: String) throws {
        guard let spec = Self.keyedSpecs.first(where: { $0.0 == name })?.1 else { return }
        try MapKernel.run {
            let pair = try Pair(spec)
            defer { pair.close() }
            let isArray = spec.type == .array || spec.type == .perCPUArray
            var random = SeededGenerator(seed: 0x5EED ^ UInt64(spec.type.rawValue))
            // Few enough keys that updates hit, miss, fill the plain hashes and never make an
            // LRU hash evict (24 keys in 256 entries).
            let keys: [[UInt8]] = isArray
                ? (0..<13).map { withUnsafeBytes(of: UInt32($0)) { Array($0) } }
                : (0..<24).map { _ in Self.bytes(Int(spec.keySize), &random) }
            let valueSize = pair.user.valueBufferSize
            #expect(valueSize == pair.kernel.valueBufferSize)
            for _ in 0..<600 {
                let key = keys.randomElement(using: &random) ?? keys[0]
                switch Int.random(in: 0..<100, using: &random) {
                case 0..<45: pair.update(key, Self.bytes(valueSize, &random), flags: Self.flags(&random))
                case 45..<65: pair.lookup(key)
                case 65..<80: pair.delete(key)
                case 80..<85: pair.lookupAndDelete(key)
                default:
                    // Arrays define the order; a hash's order is its own, but not whether a walk ends.
                    if isArray { pair.nextKey(Bool.random(using: &random) ? key : nil) } else { pair.nextKey(nil, compareKey: false) }
                }
            }
            try pair.expectSameContents(ordered: isArray)
            #expect(pair.log.contains { $0.hasPrefix("update") && $0.hasSuffix(": ok") })
        }
    }

    /// Zero-seeded hashes (BPF_F_ZERO_SEED) put keys in the kernel's buckets, so the walk
    /// order must be the kernel's too after every step: replacing a key of a plain or LRU hash
    /// links a new element at the head of its bucket (the key moves to the front), a per-CPU
    /// hash changes the value in place. Keys crowd few buckets, so that order shows.
    @Test(arguments: [("hash", 0), ("hash no prealloc", 1), ("percpu_hash", 0), ("lru_hash", 0), ("lru_percpu_hash", 0)])
    func zeroSeedHashKeepsTheKernelsOrder(_ name: String, extraFlags: UInt32) throws {
        let type: MapType = switch name {
        case "percpu_hash": .perCPUHash
        case "lru_hash": .lruHash
        case "lru_percpu_hash": .lruPerCPUHash
        default: .hash
        }
        let isLRU = type == .lruHash || type == .lruPerCPUHash
        // LRU maps large enough that the kernel never evicts 40 keys.
        let spec = MapKernel.spec(type, key: 4, value: 8, entries: isLRU ? 256 : 16, flags: 64 | extraFlags)
        try MapKernel.run {
            let pair = try Pair(spec)
            defer { pair.close() }
            var random = SeededGenerator(seed: 0x0DE2 ^ UInt64(type.rawValue))
            let keys: [[UInt8]] = (0..<(isLRU ? 40 : 24)).map { withUnsafeBytes(of: UInt32($0 * 7)) { Array($0) } }
            var replaced = 0
            for step in 0..<400 {
                let key = keys.randomElement(using: &random) ?? keys[0]
                if Int.random(in: 0..<100, using: &random) < 80 {
                    let flags: UInt64 = [0, 0, 1, 2].randomElement(using: &random) ?? 0
                    if try pair.kernel.lookup(key: key) != nil && flags != 1 { replaced += 1 }
                    pair.update(key, Self.bytes(pair.user.valueBufferSize, &random), flags: flags)
                } else {
                    pair.delete(key)
                }
                if step % 10 == 9 { try pair.expectSameContents(ordered: true) }
            }
            try pair.expectSameContents(ordered: true)
            #expect(replaced > 50, "the sequence replaced existing keys")
        }
    }

    /// An LRU hash that must evict: which keys go differs (the kernel's LRU lists are per CPU
    /// and evict in batches), but both keep what the kernel guarantees — never more than max
    /// entries, and a fresh update always succeeds and is then there.
    @Test(arguments: [MapType.lruHash, .lruPerCPUHash])
    func lruEvictionKeepsTheKernelsGuarantees(_ type: MapType) throws {
        try MapKernel.run {
            let pair = try Pair(MapKernel.spec(type, key: 4, value: 8, entries: 64))
            defer { pair.close() }
            var random = SeededGenerator(seed: 0x1CC)
            for round in UInt32(0)..<1000 {
                let key = withUnsafeBytes(of: round) { Array($0) }
                let value = Self.bytes(pair.user.valueBufferSize, &random)
                let flags: UInt64 = round % 3 == 0 ? 1 : 0
                pair.update(key, value, flags: flags)
                pair.lookup(key)
                if round % 25 == 0 {
                    let kernelCount = try pair.kernel.keys().count
                    let userCount = try pair.user.keys().count
                    #expect(kernelCount <= 64 && userCount <= 64, "round \(round): kernel \(kernelCount), userspace \(userCount) keys")
                    if round >= 64 { #expect(userCount == 64, "a full userspace LRU evicts one key per new one") }
                }
            }
        }
    }

    // MARK: LPM trie

    @Test(arguments: [UInt32(8), 6])
    func lpmTrieAgreesWithTheKernel(keySize: UInt32) throws {
        try MapKernel.run {
            let spec = MapKernel.spec(.longestPrefixMatchTrie, key: keySize, value: 8, entries: 20, flags: 1)
            let pair = try Pair(spec)
            defer { pair.close() }
            var random = SeededGenerator(seed: 0x1F0 + UInt64(keySize))
            let dataSize = Int(keySize) - 4
            let maxPrefix = dataSize * 8
            // A few base addresses, so that random prefixes of them nest and part.
            let bases = (0..<4).map { _ in Self.bytes(dataSize, &random) }
            func key(_ random: inout SeededGenerator, length: Int? = nil) -> [UInt8] {
                let prefix = length ?? Int.random(in: 0...maxPrefix, using: &random)
                var data = bases.randomElement(using: &random) ?? bases[0]
                // Sometimes flip a bit inside the prefix, sometimes leave bits past it set.
                if prefix > 0 && Int.random(in: 0..<3, using: &random) == 0 {
                    let bit = Int.random(in: 0..<prefix, using: &random)
                    data[bit / 8] ^= UInt8(0x80) >> UInt8(bit % 8)
                }
                return withUnsafeBytes(of: UInt32(prefix)) { Array($0) } + data
            }
            var added: [[UInt8]] = []
            for _ in 0..<800 {
                switch Int.random(in: 0..<100, using: &random) {
                case 0..<40:
                    let length = Int.random(in: 0..<20, using: &random) == 0 ? maxPrefix + 1 : nil
                    let newKey = key(&random, length: length)
                    added.append(newKey)
                    pair.update(newKey, Self.bytes(8, &random), flags: [0, 0, 1, 2, 3].randomElement(using: &random) ?? 0)
                case 40..<65:
                    pair.lookup(key(&random, length: Int.random(in: 0...maxPrefix + 2, using: &random)))
                case 65..<80:
                    pair.delete(Bool.random(using: &random) ? (added.randomElement(using: &random) ?? key(&random)) : key(&random))
                case 80..<90:
                    pair.nextKey(Bool.random(using: &random) ? (added.randomElement(using: &random) ?? key(&random)) : key(&random))
                default:
                    pair.nextKey(nil)
                }
            }
            try pair.expectSameContents(ordered: true)
        }
    }

    // MARK: Queue, stack, bloom filter

    @Test(arguments: [MapType.queue, .stack])
    func queueAndStackAgreeWithTheKernel(_ type: MapType) throws {
        try MapKernel.run {
            let pair = try Pair(MapKernel.spec(type, key: 0, value: 6, entries: 8))
            defer { pair.close() }
            var random = SeededGenerator(seed: 0x0E0E + UInt64(type.rawValue))
            for _ in 0..<500 {
                switch Int.random(in: 0..<100, using: &random) {
                case 0..<50: pair.update([], Self.bytes(6, &random), flags: [0, 0, 2, 2, 1, 3].randomElement(using: &random) ?? 0)
                case 50..<70: pair.lookupAndDelete([])
                case 70..<90: pair.lookup([])
                case 90..<95: pair.delete([])
                default: pair.nextKey(nil)
                }
            }
            // Drain both: the same values in the same order.
            for _ in 0..<9 { pair.lookupAndDelete([]) }
        }
    }

    @Test(arguments: [UInt32(4), 5, 16])
    func bloomFilterWithZeroSeedAnswersAsTheKernel(valueSize: UInt32) throws {
        try MapKernel.run {
            // BPF_F_ZERO_SEED (64); 3 hash functions; a small filter, so false positives happen.
            let pair = try Pair(MapKernel.spec(.bloomFilter, key: 0, value: valueSize, entries: 10, flags: 64, extra: 3))
            defer { pair.close() }
            guard let filter = pair.user as? BloomFilterMap else {
                Issue.record("a bloom filter spec did not make a BloomFilterMap")
                return
            }
            var random = SeededGenerator(seed: 0xB100 + UInt64(valueSize))
            var positives = 0
            for round in 0..<400 {
                let value = Self.bytes(Int(valueSize), &random)
                if round % 4 == 0 {
                    pair.update([], value, flags: round % 40 == 0 ? 1 : 0)
                } else {
                    pair.step("may contain \(hex(value))", kernel: { "\(try pair.kernel.mayContain(value))" },
                              user: { "\(try filter.mayContain(value))" })
                    if try filter.mayContain(value) { positives += 1 }
                }
            }
            // Random values mostly miss, and some hit by chance: the comparison covered both.
            #expect(positives > 0 && positives < 300)
        }
    }

    // MARK: Creation

    static let creationCases: [(String, MapSpec)] = {
        let s = MapKernel.spec
        let innerArray = s(.array, 4, 8, 4, 0, 0, nil, "inner")
        return [
            ("array", s(.array, 4, 8, 4, 0, 0, nil, "c")),
            ("array 8-byte key", s(.array, 8, 8, 4, 0, 0, nil, "c")),
            ("array value 0", s(.array, 4, 0, 4, 0, 0, nil, "c")),
            ("array no entries", s(.array, 4, 8, 0, 0, 0, nil, "c")),
            ("array BPF_F_NO_PREALLOC", s(.array, 4, 8, 4, 1, 0, nil, "c")),
            ("array mmapable", s(.array, 4, 8, 4, 1 << 10, 0, nil, "c")),
            ("percpu array mmapable", s(.perCPUArray, 4, 8, 4, 1 << 10, 0, nil, "c")),
            ("percpu array value 40000", s(.perCPUArray, 4, 40000, 4, 0, 0, nil, "c")),
            ("array map_extra", s(.array, 4, 8, 4, 0, 1, nil, "c")),
            ("array rdonly and wronly", s(.array, 4, 8, 4, (1 << 3) | (1 << 4), 0, nil, "c")),
            ("array rdonly_prog and wronly_prog", s(.array, 4, 8, 4, (1 << 7) | (1 << 8), 0, nil, "c")),
            ("array preserve elems", s(.array, 4, 8, 4, 1 << 11, 0, nil, "c")),
            ("hash", s(.hash, 3, 5, 7, 0, 0, nil, "c")),
            ("hash key 0", s(.hash, 0, 8, 4, 0, 0, nil, "c")),
            ("hash value 0", s(.hash, 4, 0, 4, 0, 0, nil, "c")),
            ("hash no common lru", s(.hash, 4, 8, 4, 2, 0, nil, "c")),
            ("hash zero seed", s(.hash, 4, 8, 4, 64, 0, nil, "c")),
            ("hash mmapable", s(.hash, 4, 8, 4, 1 << 10, 0, nil, "c")),
            ("hash huge value", s(.hash, 4, 1 << 22, 4, 0, 0, nil, "c")),
            ("percpu hash value 40000", s(.perCPUHash, 4, 40000, 4, 0, 0, nil, "c")),
            ("lru hash no prealloc", s(.lruHash, 4, 8, 4, 1, 0, nil, "c")),
            ("lru hash no common lru", s(.lruHash, 4, 8, 5, 2, 0, nil, "c")),
            ("lru percpu hash no common lru", s(.lruPerCPUHash, 4, 8, 5, 2, 0, nil, "c")),
            ("lpm trie", s(.longestPrefixMatchTrie, 8, 8, 4, 1, 0, nil, "c")),
            ("lpm trie preallocated", s(.longestPrefixMatchTrie, 8, 8, 4, 0, 0, nil, "c")),
            ("lpm trie key 4", s(.longestPrefixMatchTrie, 4, 8, 4, 1, 0, nil, "c")),
            ("lpm trie key 260", s(.longestPrefixMatchTrie, 260, 8, 4, 1, 0, nil, "c")),
            ("lpm trie key 261", s(.longestPrefixMatchTrie, 261, 8, 4, 1, 0, nil, "c")),
            ("lpm trie value 0", s(.longestPrefixMatchTrie, 8, 0, 4, 1, 0, nil, "c")),
            ("queue", s(.queue, 0, 8, 4, 0, 0, nil, "c")),
            ("queue with a key", s(.queue, 4, 8, 4, 0, 0, nil, "c")),
            ("stack value 0", s(.stack, 0, 0, 4, 0, 0, nil, "c")),
            ("stack no prealloc", s(.stack, 0, 8, 4, 1, 0, nil, "c")),
            ("bloom filter", s(.bloomFilter, 0, 8, 100, 0, 3, nil, "c")),
            ("bloom filter with a key", s(.bloomFilter, 4, 8, 100, 0, 0, nil, "c")),
            ("bloom filter map_extra 16", s(.bloomFilter, 0, 8, 100, 0, 16, nil, "c")),
            ("bloom filter no prealloc", s(.bloomFilter, 0, 8, 100, 1, 0, nil, "c")),
            ("ringbuf", s(.ringBuffer, 0, 0, 4096, 0, 0, nil, "c")),
            ("ringbuf 4097", s(.ringBuffer, 0, 0, 4097, 0, 0, nil, "c")),
            ("ringbuf 12288", s(.ringBuffer, 0, 0, 12288, 0, 0, nil, "c")),
            ("ringbuf 2048", s(.ringBuffer, 0, 0, 2048, 0, 0, nil, "c")),
            ("ringbuf with a key", s(.ringBuffer, 4, 0, 4096, 0, 0, nil, "c")),
            ("ringbuf mmapable", s(.ringBuffer, 0, 0, 4096, 1 << 10, 0, nil, "c")),
            ("prog array", s(.programArray, 4, 4, 4, 0, 0, nil, "c")),
            ("prog array value 8", s(.programArray, 4, 8, 4, 0, 0, nil, "c")),
            ("prog array rdonly_prog", s(.programArray, 4, 4, 4, 1 << 7, 0, nil, "c")),
            ("array of maps", s(.arrayOfMaps, 4, 4, 4, 0, 0, innerArray, "c")),
            ("array of maps value 8", s(.arrayOfMaps, 4, 8, 4, 0, 0, innerArray, "c")),
            ("hash of maps", s(.hashOfMaps, 8, 4, 4, 0, 0, innerArray, "c")),
            ("hash of maps value 8", s(.hashOfMaps, 8, 8, 4, 0, 0, innerArray, "c")),
        ]
    }()

    @Test func creationChecksAgreeWithTheKernel() throws {
        try MapKernel.run {
            var created = 0
            var refused: [Int32: Int] = [:]
            for (name, spec) in Self.creationCases {
                let kernelShape = Outcome.of {
                    let map = try Map(spec: spec)
                    defer { map.close() }
                    return "key \(map.keySize) value \(map.valueSize) entries \(map.maxEntries) flags \(map.flags.rawValue)"
                }
                let userShape = Outcome.of {
                    let map = try makeUserspaceMap(spec: spec, cpuCount: try PossibleCPUs.count())
                    return "key \(map.keySize) value \(map.valueSize) entries \(map.maxEntries) flags \(map.flags)"
                }
                #expect(userShape == kernelShape, "\(name): kernel \(kernelShape), userspace \(userShape)")
                if case .failed(let errno) = kernelShape { refused[errno, default: 0] += 1 } else { created += 1 }
            }
            print("creation: \(Self.creationCases.count) specs, \(created) created, refused: \(refused.sorted { $0.key < $1.key })")
            #expect(created > 10 && refused.count >= 3)
        }
    }
}
#endif
