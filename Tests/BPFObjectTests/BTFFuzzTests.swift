import BPFInstructions
import BPFObject
import Foundation
import Testing

/// `BTF.fuzz` and `BTFExt.fuzz` over truncated, bit-flipped, word-overwritten and random
/// variants of real blobs: each must return or throw, never crash or hang.
@Suite struct BTFFuzzTests {
    /// Deterministic, so a failure can be replayed.
    private struct SplitMix64: RandomNumberGenerator {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9e37_79b9_7f4a_7c15
            var z = state
            z = (z ^ (z >> 30)) &* 0xbf58_476d_1ce4_e5b9
            z = (z ^ (z >> 27)) &* 0x94d0_49bb_1331_11eb
            return z ^ (z >> 31)
        }
    }

    /// Words worth trying where counts, offsets and ids live.
    private static let interesting: [UInt32] = [0, 1, 2, 3, 4, 0x7f, 0xff, 0xffff, 0x1_0000, 0x7fff_ffff, 0x8000_0000, 0xffff_fffe, 0xffff_ffff]

    /// Variants of `seed`: every truncation (up to `truncations`), then random bit flips,
    /// overwritten words and random byte runs.
    private func variants(of seed: [UInt8], count: Int, truncations: Int, generator: inout SplitMix64) -> [[UInt8]] {
        var result: [[UInt8]] = []
        let step = max(1, seed.count / truncations)
        for length in stride(from: 0, to: seed.count, by: step) { result.append(Array(seed.prefix(length))) }
        for index in 0..<count {
            var bytes = seed
            guard !bytes.isEmpty else { break }
            switch index % 4 {
            case 0:
                for _ in 0..<Int.random(in: 1...4, using: &generator) {
                    let at = Int.random(in: 0..<bytes.count, using: &generator)
                    bytes[at] ^= 1 << UInt8.random(in: 0..<8, using: &generator)
                }
            case 1:
                let at = Int.random(in: 0..<max(1, bytes.count - 3), using: &generator) & ~3
                let word = Self.interesting.randomElement(using: &generator) ?? 0
                for shift in 0..<min(4, bytes.count - at) { bytes[at + shift] = UInt8(truncatingIfNeeded: word >> (8 * shift)) }
            case 2:
                let at = Int.random(in: 0..<bytes.count, using: &generator)
                for offset in at..<min(bytes.count, at + Int.random(in: 1...16, using: &generator)) {
                    bytes[offset] = UInt8.random(in: 0...255, using: &generator)
                }
            default:
                // Header fields are where lengths and offsets go wrong first.
                let at = Int.random(in: 0..<min(bytes.count, 32), using: &generator)
                bytes[at] = UInt8.random(in: 0...255, using: &generator)
            }
            result.append(bytes)
        }
        return result
    }

    private func seeds() throws -> [(name: String, btf: [UInt8], ext: [UInt8]?)] {
        var seeds: [(String, [UInt8], [UInt8]?)] = []
        if BTFTestSupport.toolchainMissing == nil {
            let directory = try BTFTestSupport.temporaryDirectory()
            defer { try? FileManager.default.removeItem(at: directory) }
            for name in ["btf-kinds", "btf-core"] {
                for target in ["bpfel", "bpfeb"] {
                    let fixture = try BTFTestSupport.compile(name, target: target, into: directory)
                    seeds.append(("\(name) \(target)", fixture.btf, fixture.btfExt))
                }
            }
        }
        var builder = BTFBlobBuilder()
        builder.type(name: builder.string("int"), kind: .int, sizeOrType: 4, [0x0100_0020])
        builder.type(kind: .struct, vlen: 1, kindFlag: true, sizeOrType: 4, [1, 1, 0x0300_0000])
        seeds.append(("hand-built", builder.blob(), nil))
        return seeds
    }

    @Test func mutatedBlobsOnlyReturnOrThrow() throws {
        var generator = SplitMix64(state: 0x5eed_b7f0)
        var parsed = 0, refused = 0
        for seed in try seeds() {
            _ = try #require(try? BTF(parsing: seed.btf), "\(seed.name) must parse before mutation")
            for variant in variants(of: seed.btf, count: 3000, truncations: 400, generator: &generator) {
                BTF.fuzz(variant)
                if (try? BTF(parsing: variant)) != nil { parsed += 1 } else { refused += 1 }
            }
            guard let ext = seed.ext, let btf = try? BTF(parsing: seed.btf) else { continue }
            _ = try BTFExt(parsing: ext, btf: btf)
            for variant in variants(of: ext, count: 2000, truncations: 200, generator: &generator) {
                BTFExt.fuzz(variant, btf: btf)
            }
        }
        // Random bytes, and random bytes behind a valid header.
        for _ in 0..<2000 {
            let length = Int.random(in: 0..<256, using: &generator)
            var bytes = (0..<length).map { _ in UInt8.random(in: 0...255, using: &generator) }
            BTF.fuzz(bytes)
            if bytes.count >= 24 {
                bytes.replaceSubrange(0..<8, with: [0x9f, 0xeb, 1, 0, 24, 0, 0, 0])
                BTF.fuzz(bytes)
            }
        }
        #expect(parsed > 0 && refused > 0)
        print("BTF fuzz: \(parsed) variants parsed, \(refused) refused")
    }

    /// A few mutations of the kernel's own BTF: large counts and offsets in real context.
    @Test func mutatedKernelBTFOnlyReturnsOrThrows() throws {
        guard let bytes = try BTFTestSupport.vmlinuxBytes() else {
            print("BTF kernel fuzz: skipped, \(BTFTestSupport.vmlinuxPath) is absent")
            return
        }
        var generator = SplitMix64(state: 0xfeed)
        for variant in variants(of: bytes, count: 24, truncations: 8, generator: &generator) {
            _ = try? BTF(parsing: variant)
        }
    }
}
