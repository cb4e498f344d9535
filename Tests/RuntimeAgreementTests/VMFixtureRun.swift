import BPFVM

/// A fixture in BPFVM through the runtime's API: the object loaded (`LoadedObject`), the
/// setup written into its maps, each packet run (`LoadedProgram.run(packet:)`), then every
/// map read and the ring buffers drained — what `KernelFixtureRun` does in the kernel.
enum VMFixtureRun {
    static func run(_ fixture: RuntimeFixture, over packets: [CorpusPackets.Packet], engine: EngineKind) throws -> FixtureOutcome {
        let object = try LoadedObject(file: fixture.object(), engine: engine)
        for write in try fixture.setup() {
            guard let map = object.map(named: write.map) else {
                throw RuntimeFixture.SetupError(description: "\(fixture).maps names map \(write.map), which the object does not have")
            }
            try map.update(key: write.key, value: write.value, flags: .any)
        }
        let program = try object.program(named: fixture.program)
        var outcome = FixtureOutcome()
        outcome.packets.reserveCapacity(packets.count)
        for packet in packets {
            do {
                let run = try program.run(packet: packet.data)
                // The kernel's test run reports the low 32 bits of r0.
                outcome.packets.append(.finished(verdict: UInt32(truncatingIfNeeded: run.verdict), data: run.packet))
            } catch {
                outcome.packets.append(.failed("\(error)"))
            }
        }
        for spec in object.file.maps {
            let name = spec.origin == .globalData ? spec.sectionName : spec.name
            if spec.type == .ringBuffer {
                guard let ring = object.map(named: spec.name) as? RingBufferMap else {
                    throw RuntimeFixture.SetupError(description: "ring buffer \(spec.name) is not a RingBufferMap in the VM")
                }
                outcome.records[name] = ring.records()
            } else {
                let entries = try object.contents(ofMap: spec.name).map { FixtureOutcome.MapEntry(key: $0.key, value: $0.value) }
                outcome.maps[name] = FixtureOutcome.sorted(entries)
            }
        }
        return outcome
    }
}

// Workaround until the runtime or the maps branch joins them: the ring buffer helpers look
// for maps that conform to the runtime's `ProgramRingBuffer`, and the maps branch's
// `RingBufferMap` (what `makeUserspaceMap` makes for a ring buffer) does not conform yet.
extension RingBufferMap: ProgramRingBuffer {
    public func programReserve(size: Int) -> UnsafeMutableRawPointer? { reserve(count: size) }

    public func programCommit(_ sample: UnsafeMutableRawPointer, discard: Bool, flags: UInt64) -> Bool {
        let address = UInt64(UInt(bitPattern: sample))
        guard storage.contains(where: { address >= $0.start && address < $0.start + UInt64($0.count) }) else { return false }
        if discard { self.discard(sample, flags: flags) } else { submit(sample, flags: flags) }
        return true
    }

    public func programQuery(_ field: UInt64) -> UInt64 { query(field) }
}
