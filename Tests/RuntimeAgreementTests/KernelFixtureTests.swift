#if os(Linux)
import BPFObject
import Testing

/// The runtime fixtures in the real kernel over every usable Ethernet packet of the capture
/// corpus, checked against what the packets themselves say (read by `Frame`, not by the
/// fixtures' C): counters that add up to the packets and bytes sent, rewritten headers whose
/// checksums still hold, samples that are the packets' first bytes.
@Suite(.serialized)
struct KernelFixtureTests {
    static let tcOK: UInt32 = 0

    @Test func firewallDropsAndPassesByLongestPrefix() throws {
        try KernelPeer.run {
            let fixture = RuntimeFixture.firewall
            guard case let (corpus, _, outcome, _)? = try kernelRun(fixture) else { return }
            var counters: [UInt32: (packets: UInt64, bytes: UInt64)] = [:]
            for entry in outcome.maps["rule_counters"] ?? [] {
                counters[le32(entry.key)] = (le64(entry.value, at: 0), le64(entry.value, at: 8))
            }
            let totalBytes = corpus.packets.reduce(0) { $0 + UInt64($1.data.count) }
            #expect(counters.values.reduce(0) { $0 + $1.packets } == UInt64(corpus.packets.count))
            #expect(counters.values.reduce(0) { $0 + $1.bytes } == totalBytes)
            let actions = Dictionary(try fixture.setup().map { (le32($0.value), le32($0.value, at: 4)) }, uniquingKeysWith: { first, _ in first })
            let dropped = counters.filter { actions[$0.key] == RuntimeFixture.xdpDrop }.values.reduce(0) { $0 + $1.packets }
            let verdicts = outcome.verdictCounts
            #expect(UInt64(verdicts[RuntimeFixture.xdpDrop, default: 0]) == dropped)
            #expect(verdicts[RuntimeFixture.xdpDrop, default: 0] + verdicts[RuntimeFixture.xdpPass, default: 0] == corpus.packets.count)
            // Nested prefixes: 10/8 drops, 10.0/16 passes, 10.0.0/24 drops again.
            for id: UInt32 in [2, 3, 4, 6, 11] {
                #expect(counters[id, default: (0, 0)].packets > 0, "rule \(id) matched no packet")
            }
            expectUnchanged(outcome, corpus)
            print("firewall in the kernel: \(corpus.packets.count) packets, verdicts \(verdicts.sorted { $0.key < $1.key }), "
                  + "per rule \(counters.filter { $0.value.packets > 0 }.sorted { $0.key < $1.key }.map { "\($0.key): \($0.value.packets)" })")
        }
    }

    @Test func loadBalancerRewritesToBackendsWithValidChecksums() throws {
        try KernelPeer.run {
            guard case let (corpus, object, outcome, _)? = try kernelRun(.loadBalancer) else { return }
            var transmitted = 0, headerChecksums = 0, transportChecksums = 0, removed = 0
            for (packet, result) in zip(corpus.packets, outcome.packets) {
                guard case .finished(let verdict, let data) = result else { continue }
                guard verdict == RuntimeFixture.xdpTransmit else {
                    #expect(verdict == RuntimeFixture.xdpPass, "\(packet.location): verdict \(verdict)")
                    #expect(data == packet.data, "\(packet.location): a passed packet changed")
                    continue
                }
                transmitted += 1
                removed += packet.data.count - data.count
                let before = Frame(packet.data), after = Frame(data)
                #expect(after.vlanTags == max(before.vlanTags - 1, 0), "\(packet.location): VLAN tags \(before.vlanTags) → \(after.vlanTags)")
                guard let destination = after.ipv4Destination, let port = after.destinationPort else {
                    Issue.record("\(packet.location): no IPv4 transport header after rewriting")
                    continue
                }
                // Backend n (from 1) is 10.9.0.n, port 7999 + n, MAC 02:00:00:00:0b:n.
                let backend = destination.last ?? 0
                #expect(Array(destination.prefix(3)) == [10, 9, 0] && port == 7999 + UInt16(backend), "\(packet.location): sent to \(Array(destination)):\(port)")
                #expect(Array(after.destinationMAC) == [2, 0, 0, 0, 0x0b, backend], "\(packet.location): MAC \(Array(after.destinationMAC))")
                if before.ipv4HeaderChecksumHolds == true {
                    headerChecksums += 1
                    #expect(after.ipv4HeaderChecksumHolds == true, "\(packet.location): IP header checksum broken by the rewrite")
                }
                if before.transportChecksumHolds == true {
                    transportChecksums += 1
                    #expect(after.transportChecksumHolds == true, "\(packet.location): TCP/UDP checksum broken by the rewrite")
                }
                if let total = after.ipv4TotalLength {
                    #expect(data.count <= max(after.ipOffset + total, 14), "\(packet.location): padding after the datagram left")
                }
            }
            let sent = (outcome.maps["backend_packets"] ?? []).reduce(0) { $0 + le64($1.value, at: 0) }
            #expect(sent == UInt64(transmitted))
            let popped = global("tags_popped", object, outcome), trimmed = global("bytes_trimmed", object, outcome)
            #expect(popped.map { 4 * $0 } .map { $0 + (trimmed ?? 0) } == UInt64(removed))
            #expect(transmitted > 0 && headerChecksums > 0 && transportChecksums > 0)
            print("load balancer in the kernel: \(corpus.packets.count) packets, \(transmitted) rewritten (checksums checked: "
                  + "\(headerChecksums) IP, \(transportChecksums) TCP/UDP), \(popped ?? 0) VLAN tags popped, \(trimmed ?? 0) bytes trimmed")
        }
    }

    @Test func flowCounterAddsUpPacketsAndBytes() throws {
        try KernelPeer.run {
            guard case let (corpus, object, outcome, accepted)? = try kernelRun(.flowCounter) else { return }
            #expect(outcome.verdictCounts == [Self.tcOK: accepted.count])
            expectUnchanged(outcome, corpus)
            let flows = outcome.maps["flows"] ?? []
            let totalBytes = accepted.reduce(0) { $0 + UInt64($1.data.count) }
            #expect(flows.reduce(0) { $0 + le64($1.value, at: 0) } == UInt64(accepted.count))
            #expect(flows.reduce(0) { $0 + le64($1.value, at: 8) } == totalBytes)
            #expect(global("packets_seen", object, outcome) == UInt64(accepted.count))
            #expect(global("flows_added", object, outcome) == UInt64(flows.count))
            // Far below max_entries (65536), so LRU eviction cannot make engines differ.
            #expect(flows.count > 100 && flows.count < 65536 / 4, "\(flows.count) flows")
            print("flow counter in the kernel: \(accepted.count) packets (\(corpus.packets.count - accepted.count) refused), \(flows.count) flows")
        }
    }

    @Test func samplerRecordsEveryEighthPacket() throws {
        try KernelPeer.run {
            guard case let (corpus, object, outcome, accepted)? = try kernelRun(.sampler) else { return }
            #expect(outcome.verdictCounts == [Self.tcOK: accepted.count])
            expectUnchanged(outcome, corpus)
            let records = outcome.records["samples"] ?? []
            var expected = (0..<accepted.count).filter { $0 % 8 == 0 }
            // Reserved samples (every other one) of frames under 60 bytes are discarded.
            expected.removeAll { $0 % 16 == 0 && accepted[$0].data.count < 60 }
            #expect(records.map { Int(le64($0, at: 0)) } == expected)
            for record in records where record.count == 80 {
                let index = Int(le64(record, at: 0))
                guard index < accepted.count else { continue }
                let packet = accepted[index].data, location = accepted[index].location
                let captured = min(packet.count, 64)
                #expect(le32(record, at: 8) == UInt32(packet.count), "\(location): length")
                #expect(Int(UInt16(record[14]) | UInt16(record[15]) << 8) == captured, "\(location): bytes captured")
                #expect(Array(record[16..<16 + captured]) == Array(packet.prefix(captured)), "\(location): header bytes")
                #expect(record[16 + captured..<80].allSatisfy { $0 == 0 })
                let protocolNumber = UInt16(record[12]) << 8 | UInt16(record[13])
                #expect(protocolNumber == Self.ethernetProtocol(packet), "\(location): skb->protocol \(protocolNumber)")
            }
            #expect(records.allSatisfy { $0.count == 80 })
            #expect(global("packets_seen", object, outcome) == UInt64(accepted.count))
            let submitted = global("samples_submitted", object, outcome) ?? 0, output = global("samples_output", object, outcome) ?? 0
            #expect(submitted + output == UInt64(records.count))
            #expect(global("samples_lost", object, outcome) == 0)
            print("sampler in the kernel: \(accepted.count) packets, \(records.count) samples (\(submitted) reserved, "
                  + "\(output) output, \(global("samples_discarded", object, outcome) ?? 0) discarded)")
        }
    }

    /// What the kernel's eth_type_trans makes `skb->protocol` of a frame: the EtherType,
    /// or for 802.3 length fields ETH_P_802_3 (raw IPX, 0xffff next) or ETH_P_802_2.
    static func ethernetProtocol(_ frame: [UInt8]) -> UInt16 {
        let type = Frame.be16(frame, 12) ?? 0
        if type >= 0x0600 { return type }
        return Frame.be16(frame, 14) == 0xffff ? 0x0001 : 0x0004
    }

    // MARK: Helpers

    /// The fixture run in the kernel over the corpus: the corpus, the object, the outcome and
    /// the packets the program ran on, in order; nil when the corpus is absent. Every run
    /// must finish; only TC programs may be refused, and only frames whose EtherType
    /// announces an IP header cut short.
    func kernelRun(_ fixture: RuntimeFixture, sourceLocation: SourceLocation = #_sourceLocation) throws
        -> (CorpusPackets, ObjectFile, FixtureOutcome, [CorpusPackets.Packet])? {
        guard let corpus = CorpusPackets.load() else { return nil }
        let object = try fixture.object()
        let outcome = try KernelFixtureRun.run(fixture, over: corpus.packets)
        try #require(outcome.packets.count == corpus.packets.count, sourceLocation: sourceLocation)
        var accepted: [CorpusPackets.Packet] = []
        for (packet, result) in zip(corpus.packets, outcome.packets) {
            switch result {
            case .finished: accepted.append(packet)
            case .failed(let message): Issue.record("\(packet.location): \(message)", sourceLocation: sourceLocation)
            case .refused(let message):
                let frame = Frame(packet.data), available = packet.data.count - frame.ipOffset
                let cutShort = (frame.etherType == 0x0800 && available < 20) || (frame.etherType == 0x86dd && available < 40)
                #expect(fixture.kind == .tc && cutShort, "\(packet.location): refused: \(message)", sourceLocation: sourceLocation)
            }
        }
        return (corpus, object, outcome, accepted)
    }

    func expectUnchanged(_ outcome: FixtureOutcome, _ corpus: CorpusPackets, sourceLocation: SourceLocation = #_sourceLocation) {
        let changed = zip(corpus.packets, outcome.packets).filter { packet, result in
            if case .finished(_, let data) = result { return data != packet.data }
            return false
        }
        #expect(changed.isEmpty, "packets changed: \(changed.prefix(5).map { $0.0.location })", sourceLocation: sourceLocation)
    }

    func global(_ name: String, _ object: ObjectFile, _ outcome: FixtureOutcome) -> UInt64? {
        guard let variable = object.globals.first(where: { $0.name == name }), variable.size == 8,
              let data = outcome.globalData(variable.sectionName), variable.offset + 8 <= data.count else { return nil }
        return le64(data, at: variable.offset)
    }
}

/// Little-endian numbers in kernel replies; 0 past the end (the tests check sizes apart).
func le32(_ bytes: [UInt8], at offset: Int = 0) -> UInt32 {
    UInt32(truncatingIfNeeded: littleEndian(bytes, at: offset, count: 4))
}

func le64(_ bytes: [UInt8], at offset: Int) -> UInt64 { littleEndian(bytes, at: offset, count: 8) }

private func littleEndian(_ bytes: [UInt8], at offset: Int, count: Int) -> UInt64 {
    guard offset >= 0, offset + count <= bytes.count else { return 0 }
    return (0..<count).reduce(0) { $0 | UInt64(bytes[offset + $1]) << (8 * $1) }
}
#endif
