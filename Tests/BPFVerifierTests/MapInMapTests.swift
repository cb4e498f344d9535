import BPFInstructions
import BPFVerifier
import Testing

/// Maps of maps: a lookup in the outer map finds an inner map or NULL; once checked, the
/// inner map is looked up like any map of its template's layout.
@Suite struct MapInMapTests {
    static let maps: [Int32: MapInfo] = [
        0: MapInfo(name: "outer", type: .arrayOfMaps, keySize: 4, valueSize: 4, maxEntries: 2,
                   innerMap: MapInfo(name: "inner", type: .array, keySize: 4, valueSize: 8, maxEntries: 4)),
    ]

    static func program(checksInner: Bool, readAt offset: Int = 0) throws -> Program {
        try Assembler.assemble("""
            r1 = 1
            *(u32 *)(r10 - 4) = r1
            r2 = r10
            r2 += -4
            r1 = map[idx:0]
            call 1
            \(checksInner ? "if r0 == 0 goto +7" : "r0 = r0")
            r1 = r0
            r2 = r10
            r2 += -4
            call 1
            if r0 == 0 goto +2
            r0 = *(u64 *)(r0 + \(offset))
            exit
            r0 = 0
            exit
            """, syntax: .kernel)
    }

    @Test func aCheckedInnerMapIsLookedUpWithItsTemplate() throws {
        _ = try Verifier.verify(try Self.program(checksInner: true), as: .kernel(.xdp), maps: Self.maps)
        let outside = try #require(throws: Rejection.self) {
            try Verifier.verify(try Self.program(checksInner: true, readAt: 4), as: .kernel(.xdp), maps: Self.maps)
        }
        #expect(outside.message.contains("outside the 8-byte value of map inner"), "\(outside)")
    }

    @Test func anUncheckedInnerMapIsRefused() throws {
        let error = try #require(throws: Rejection.self) {
            try Verifier.verify(try Self.program(checksInner: false), as: .kernel(.xdp), maps: Self.maps)
        }
        #expect(error.index == 11 && error.message.contains("must be a map"), "\(error)")
        #expect(error.facts.contains { $0.contains("map_lookup_elem at 6") }, "\(error.facts)")
    }

    @Test func withoutATemplateTheLookupIsRefused() throws {
        var maps = Self.maps
        maps[0]?.innerMap = nil
        let error = try #require(throws: Rejection.self) {
            try Verifier.verify(try Self.program(checksInner: true), as: .kernel(.xdp), maps: maps)
        }
        #expect(error.kind == .unknownMap, "\(error)")
    }
}
