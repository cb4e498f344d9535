import BPFInstructions
import BPFObject
import Foundation
import Testing

/// `ObjectFile.fuzz` on thousands of damaged variants of every compiled fixture — cut
/// short, bit-flipped, overwritten, with header and table fields set to extreme values, or
/// random bytes behind an ELF header — must only return. A crash fails the whole run.
@Suite(.enabled(if: ObjectFixtures.clangAvailable, "needs clang"))
struct ObjectFuzzTests {
    /// SplitMix64: reproducible runs.
    struct Random: RandomNumberGenerator {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9e37_79b9_7f4a_7c15
            var z = state
            z = (z ^ (z >> 30)) &* 0xbf58_476d_1ce4_e5b9
            z = (z ^ (z >> 27)) &* 0x94d0_49bb_1331_11eb
            return z ^ (z >> 31)
        }
    }

    /// SWIFTBPF_FUZZ_VARIANTS raises it for a longer campaign.
    static let variantsPerObject = ProcessInfo.processInfo.environment["SWIFTBPF_FUZZ_VARIANTS"].flatMap { Int($0) } ?? 300

    @Test(arguments: ObjectFixtures.names, ["bpfel", "bpfeb"])
    func damagedObjectsOnlyEverFail(fixture: String, target: String) throws {
        let original = try ObjectFixtures.compile(fixture, target: target).bytes
        let elf = try ELFFile(parsing: original)
        var random = Random(state: (fixture + target).utf8.reduce(UInt64(17)) { $0 &* 131 &+ UInt64($1) })
        // Offsets of the fields that steer parsing: section headers, symbols, relocations.
        var hotSpots: [Int] = Array(16..<64)
        let table = Int(try ByteReader(original, order: elf.byteOrder).u64(at: 40))
        hotSpots += (0..<elf.sections.count * 64).map { table + $0 }
        for section in elf.sections where section.kind == .symbolTable || section.kind == .relocations
            || section.name == ".BTF" || section.name == ".BTF.ext" || section.name == ".maps" {
            let start = Int(section.fileOffset)
            hotSpots += (start..<min(start + Int(section.size), original.count)).map { $0 }
        }

        var parsed = 0
        for variant in 0..<Self.variantsPerObject {
            var bytes = original
            switch variant % 6 {
            case 0:
                bytes = Array(bytes.prefix(Int.random(in: 0..<bytes.count, using: &random)))
            case 1:
                for _ in 0..<Int.random(in: 1...8, using: &random) {
                    let index = Int.random(in: 0..<bytes.count, using: &random)
                    bytes[index] ^= 1 << UInt8.random(in: 0..<8, using: &random)
                }
            case 2:
                for _ in 0..<Int.random(in: 1...4, using: &random) {
                    let index = hotSpots[Int.random(in: 0..<hotSpots.count, using: &random)]
                    bytes[index] = [0, 0xff, 0x7f, 0x80, 1, UInt8.random(in: 0...255, using: &random)][Int.random(in: 0..<6, using: &random)]
                }
            case 3:
                let start = Int.random(in: 0..<bytes.count, using: &random)
                let count = min(Int.random(in: 1...64, using: &random), bytes.count - start)
                for index in start..<start + count { bytes[index] = UInt8.random(in: 0...255, using: &random) }
            case 4:
                // A 4- or 8-byte field in the hot spots set to an extreme.
                let index = hotSpots[Int.random(in: 0..<hotSpots.count, using: &random)] & ~3
                let value: UInt64 = [0, UInt64.max, UInt64(UInt32.max), 0x8000_0000, UInt64(bytes.count), 8][Int.random(in: 0..<6, using: &random)]
                for byte in 0..<min(8, bytes.count - index) { bytes[index + byte] = UInt8(truncatingIfNeeded: value >> (8 * UInt64(byte))) }
            default:
                let count = Int.random(in: 64...2048, using: &random)
                bytes = Array(original.prefix(64)) + (0..<count).map { _ in UInt8.random(in: 0...255, using: &random) }
            }
            ObjectFile.fuzz(bytes)
            if (try? ObjectFile(parsing: bytes)) != nil { parsed += 1 }
        }
        // Some mutations land where nothing reads; the rest must have been refused, not crashed.
        #expect(parsed < Self.variantsPerObject)
    }

    @Test func randomBytesBehindAMagic() {
        var random = Random(state: 42)
        for _ in 0..<500 {
            let count = Int.random(in: 0...512, using: &random)
            var bytes = (0..<count).map { _ in UInt8.random(in: 0...255, using: &random) }
            if bytes.count >= 20 {
                bytes.replaceSubrange(0..<7, with: [0x7f, 0x45, 0x4c, 0x46, 2, 1, 1])
                bytes[16] = 1
                bytes[18] = 247
                bytes[19] = 0
            }
            ObjectFile.fuzz(bytes)
        }
    }
}
