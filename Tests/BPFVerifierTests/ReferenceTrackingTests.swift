#if os(Linux)
import BPFInstructions
import BPFObject
import BPFVerifier
import Foundation
import Testing

/// Resources a program must give back: socket references (bpf_sk_lookup_*, bpf_sk_release)
/// and spin locks in map values. The corpus (Fixtures/programs/*socket*.s and
/// Fixtures/spin_locks.bpf.c) is judged by the kernel too in KernelAgreementTests; these
/// tests hold the messages to what a person needs: the register, the helper call and the path.
@Suite struct ReferenceTrackingTests {
    static func corpusProgram(_ name: String) throws -> CorpusProgram {
        try CorpusProgram(url: CorpusProgram.directory.appendingPathComponent(name + ".s"))
    }

    static func verdict(_ entry: CorpusProgram) -> Result<VerifiedProgram, Rejection> {
        Result { () throws(Rejection) in try Verifier.verify(entry.program, as: .kernel(entry.type), maps: entry.mapInfo) }
    }

    @Test func aLeakedSocketNamesItsHolderTheLookupAndThePath() throws {
        // r6 keeps the socket; the path that does not release it ends at the exit.
        let program = try Assembler.assemble("""
            r6 = r1
            r1 = 0
            *(u64 *)(r10 - 16) = r1
            *(u64 *)(r10 - 8) = r1
            r1 = r6
            r2 = r10
            r2 += -16
            r3 = 12
            r4 = -1
            r5 = 0
            call 84
            if r0 == 0 goto +5
            r6 = r0
            r1 = *(u32 *)(r6 + 4)
            if r1 == 2 goto +2
            r1 = r6
            call 86
            r0 = 0
            exit
            """, syntax: .kernel)
        let error = try #require(throws: Rejection.self) { try Verifier.verify(program, as: .kernel(.schedulerClassifier)) }
        #expect(error.kind == .unreleasedReference)
        #expect(error.index == 18)
        #expect(error.facts == ["r6 holds a socket reference acquired by sk_lookup_tcp at 10 that is not released on the path 11 → 12 → 14 → 17 → 18"],
                "\(error.facts)")
    }

    @Test(arguments: ["accept-socket-lookup-tcp-released", "accept-socket-lookup-udp-xdp", "accept-socket-lookup-cgroup-skb",
                      "accept-socket-lookup-common-fields"])
    func acceptsReleasedSockets(_ name: String) throws {
        if case .failure(let rejection) = Self.verdict(try Self.corpusProgram(name)) { Issue.record("\(name) refused: \(rejection)") }
    }

    @Test(arguments: [
        ("reject-socket-release-twice", 16, "must be a socket pointer"),
        ("reject-socket-release-unchecked", 12, "must be a socket pointer"),
        ("reject-socket-release-not-referenced", 1, "must be a socket pointer"),
        ("reject-socket-write", 13, "whose fields may only be read"),
        ("reject-socket-read-wide", 12, "must read the whole 4-byte field"),
        ("reject-socket-read-padding", 12, "padding after dst_port"),
        ("reject-socket-common-protocol", 12, "a sock_common pointer does not have"),
        ("reject-socket-pointer-arithmetic", 12, "arithmetic on a sock pointer"),
        ("reject-socket-lookup-in-socket-filter", 10, "may not be called by a socket_filter program"),
        ("reject-socket-tail-call-with-reference", 17, "tail call"),
        ("reject-socket-lookup-leak", 14, "without releasing"),
    ])
    func refusesMisusedSockets(_ name: String, _ index: Int, _ words: String) throws {
        guard case .failure(let rejection) = Self.verdict(try Self.corpusProgram(name)) else {
            Issue.record("\(name) accepted")
            return
        }
        #expect(rejection.index == index, "\(rejection)")
        #expect(rejection.message.contains(words), "\(rejection)")
    }

    // MARK: Spin locks

    static func spinLockObject() throws -> ObjectFile {
        try KernelAgreementTests.compile(KernelAgreementTests.fixtureDirectories[0].appendingPathComponent("spin_locks.bpf.c"))
    }

    @Test func theLockOffsetComesFromTheMapsBTF() throws {
        let object = try Self.spinLockObject()
        let spec = try #require(object.maps.first { $0.name == "counters" })
        #expect(MapInfo(spec, btf: object.btf).spinLockOffset == 8)
        #expect(MapInfo(spec).spinLockOffset == nil)
    }

    @Test func aValueUpdatedUnderItsLockIsAccepted() throws {
        let object = try Self.spinLockObject()
        let spec = try #require(object.programs.first { $0.name == "locked_update" })
        _ = try Verifier.verify(spec, maps: object.maps, btf: object.btf)
        // Without the map's BTF there is no lock to take.
        let error = try #require(throws: Rejection.self) { try Verifier.verify(spec, maps: object.maps) }
        #expect(error.message.contains("has no struct bpf_spin_lock"), "\(error)")
    }

    @Test(arguments: [
        ("lock_kept_on_a_path", "ends while holding the spin lock"),
        ("helper_under_lock", "bpf_ktime_get_ns may not be called while a spin lock is held"),
        ("two_locks", "bpf_spin_lock may not be called while a spin lock is held"),
        ("unlock_without_lock", "no spin lock is held"),
        ("unlock_of_another_value", "a different lock"),
        ("lock_at_wrong_offset", "must point at the bpf_spin_lock of map counters's value, at offset 8"),
        ("lock_read_directly", "touches the bpf_spin_lock at offset 8"),
        ("lock_in_socket_filter", "does not let socket_filter programs use"),
        ("lock_in_kprobe", "does not let kprobe programs use"),
    ])
    func refusesMisusedLocks(_ name: String, _ words: String) throws {
        let object = try Self.spinLockObject()
        let spec = try #require(object.programs.first { $0.name == name })
        let error = try #require(throws: Rejection.self) { try Verifier.verify(spec, maps: object.maps, btf: object.btf) }
        #expect(error.message.contains(words), "\(error)")
    }

    /// A lock taken through one copy of the value pointer and given back through another is
    /// the same lock; a path that skips the unlock is refused where it joins one that did not
    /// (the lock held is part of the state pruning compares).
    @Test func aPathThatSkipsTheUnlockIsRefusedAtTheJoin() throws {
        let maps: [Int32: MapInfo] = [0: MapInfo(name: "values", type: .hash, keySize: 4, valueSize: 16, maxEntries: 4, spinLockOffset: 4)]
        let program = try Assembler.assemble("""
            r6 = r1
            r1 = 0
            *(u32 *)(r10 - 4) = r1
            r2 = r10
            r2 += -4
            r1 = map[idx:0]
            call 1
            if r0 == 0 goto +12
            r7 = r0
            r8 = r0
            r1 = r7
            r1 += 4
            call 93
            r2 = *(u32 *)(r6 + 0)
            if r2 > 5 goto +3
            r1 = r8
            r1 += 4
            call 94
            r0 = 0
            exit
            r0 = 0
            exit
            """, syntax: .kernel)
        let error = try #require(throws: Rejection.self) { try Verifier.verify(program, as: .kernel(.schedulerClassifier), maps: maps) }
        #expect(error.kind == .unreleasedReference && error.index == 20, "\(error)")
        #expect(error.message.contains("spin lock taken at 13"), "\(error)")
        // Unlocked on both paths, the same program is accepted.
        var fixed = program.instructions.map(\.instruction)
        fixed[14] = .branch(.gt, .bits64, dst: .r2, source: .immediate(5), offset: 0)
        _ = try Verifier.verify(try Program(fixed), as: .kernel(.schedulerClassifier), maps: maps)
    }
}
#endif
