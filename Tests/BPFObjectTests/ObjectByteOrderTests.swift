import BPFInstructions
import BPFObject
import Testing

/// A big-endian object (`-target bpfeb`) reads as the same programs, maps, globals and
/// externs as the little-endian build of the same source: instructions are byte-swapped
/// back, and only the initial contents of data maps stay in the target's byte order.
/// Where clang's code itself depends on the byte order (constants built from struct
/// initialisers or strings: the maps and globals fixtures), the programs are compared by
/// everything but their code.
@Suite(.enabled(if: ObjectFixtures.clangAvailable, "needs clang"))
struct ObjectByteOrderTests {
    static let orderNeutral: Set = ["subprograms", "core", "externs", "legacy", "sections"]

    @Test(arguments: ObjectFixtures.names)
    func bigEndianObjectsParseToTheSameObject(fixture: String) throws {
        let little = try ObjectFixtures.object(fixture, target: "bpfel")
        let big = try ObjectFixtures.object(fixture, target: "bpfeb")
        #expect(little.byteOrder == .little && big.byteOrder == .big)
        #expect(big.programs.count == little.programs.count)
        for (b, l) in zip(big.programs, little.programs) {
            #expect(b.name == l.name && b.sectionName == l.sectionName && b.type == l.type)
            #expect(b.functions.map(\.name) == l.functions.map(\.name))
            #expect(b.relocations.map(\.target) == l.relocations.map(\.target), "\(fixture)/\(b.name)")
            #expect(b.functionInfo.count == l.functionInfo.count)
            #expect(b.lineInfo.map(\.line) == l.lineInfo.map(\.line))
            #expect(b.coreRelocations.map(\.accessString) == l.coreRelocations.map(\.accessString))
            #expect(b.program != nil && l.program != nil)
            guard Self.orderNeutral.contains(fixture) else { continue }
            #expect(b.instructions == l.instructions, "\(fixture)/\(b.name)")
            #expect(b.relocations == l.relocations, "\(fixture)/\(b.name)")
            #expect(b.functions == l.functions)
            #expect(b.functionInfo == l.functionInfo)
            #expect(b.lineInfo == l.lineInfo)
            #expect(b.coreRelocations == l.coreRelocations)
        }
        #expect(big.maps.count == little.maps.count)
        for (b, l) in zip(big.maps, little.maps) {
            var bigMap = b, littleMap = l
            #expect(bigMap.initialValue?.count == littleMap.initialValue?.count)
            bigMap.initialValue = nil
            littleMap.initialValue = nil
            #expect(bigMap == littleMap, "\(fixture)/\(b.name)")
        }
        #expect(big.globals == little.globals)
        #expect(big.externs == little.externs)
        #expect(big.license == little.license && big.kernelVersion == little.kernelVersion)
    }

    @Test func dataStaysInTheTargetsByteOrder() throws {
        let big = try ObjectFixtures.object("globals", target: "bpfeb")
        let data = try #require(big.map(named: ".data")?.initialValue)
        #expect(Array(data[0..<4]) == [0, 0, 0, 42])  // counter = 42, big-endian
    }
}
