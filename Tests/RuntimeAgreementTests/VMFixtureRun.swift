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
                outcome.records[name] = try object.records(ofRingBuffer: spec.name)
            } else {
                let entries = try object.contents(ofMap: spec.name).map { FixtureOutcome.MapEntry(key: $0.key, value: $0.value) }
                outcome.maps[name] = FixtureOutcome.sorted(entries)
            }
        }
        return outcome
    }
}
