import ClassicBPF
import Testing

/// The interpreter against libpcap's own `bpf_filter`, the reference for classic BPF in
/// user space: same result for every program and packet.
@Suite struct LibpcapTests {
    static func compare(_ libpcap: Libpcap, _ program: ClassicProgram, _ packets: [CapturedPacket], name: String) -> Int {
        let interpreter = ClassicInterpreter(program: program)
        let code = program.bytes()
        var mismatches = 0
        for packet in packets {
            let expected = libpcap.run(code, packet: packet.bytes, wireLength: packet.originalLength)
            let actual = interpreter.run(packet: packet.bytes, wireLength: packet.originalLength)
            guard actual != expected else { continue }
            mismatches += 1
            Issue.record("""
                \(name): libpcap 0x\(String(expected, radix: 16)), ours 0x\(String(actual, radix: 16))
                packet (\(packet.bytes.count) bytes, wire \(packet.originalLength)): \(packet.bytes.map { String($0, radix: 16) }.joined(separator: " "))
                \(ClassicTextFormat.listing.format(program))
                """)
            if mismatches >= 3 { break }
        }
        return packets.count
    }

    @Test func tcpdumpFiltersOnCaptures() {
        guard let libpcap = Libpcap.load() else { return }
        let programs = ClassicTestSupport.validFilterPrograms
        if programs.isEmpty { _ = ClassicTestSupport.tcpdump(); return }
        var generator = SeededGenerator(seed: 61)
        let packets = ClassicTestSupport.capturedRecords(limit: 4000)
            + ClassicTestSupport.randomPackets(count: 500, using: &generator).map {
                CapturedPacket(bytes: $0, originalLength: UInt32($0.count) + UInt32.random(in: 0...3, using: &generator) * 500)
            }
        var runs = 0
        var accepted = 0
        for (filter, program) in programs {
            runs += Self.compare(libpcap, program, packets, name: "\(filter)")
            let interpreter = ClassicInterpreter(program: program)
            accepted += packets.filter { interpreter.run(packet: $0.bytes, wireLength: $0.originalLength) != 0 }.count
        }
        #expect(accepted > runs / 20, "too few packets pass the filters for the comparison to mean much")
        print("libpcap: \(programs.count) tcpdump filters, \(runs) runs compared, \(accepted) accepted")
    }

    @Test func randomPrograms() {
        guard let libpcap = Libpcap.load() else { return }
        var generator = SeededGenerator(seed: 62)
        let packets = ClassicTestSupport.randomPackets(count: 200, using: &generator).map {
            CapturedPacket(bytes: $0, originalLength: UInt32.random(in: 0...1600, using: &generator))
        }
        var results = Set<UInt32>()
        for index in 0..<2000 {
            guard let program = RandomClassicPrograms.program(using: &generator, linux: index % 2 == 0) else { continue }
            _ = Self.compare(libpcap, program, packets, name: "random program \(index)")
            results.insert(ClassicInterpreter(program: program).run(packet: packets[index % packets.count].bytes))
        }
        #expect(results.count > 100, "random programs should return many different values")
    }
}
