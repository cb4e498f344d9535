import BPFInstructions
import Foundation
import PacketCapture
import Testing

/// tcpdump's 830 test captures (../shared/pcaps/tcpdump), many of them fuzzer finds: every
/// one reads fully or stops with an error that names where, and reads back the same after
/// being written again as pcap and as pcapng.
struct CaptureCorpusTests {
    @Test func everyFileReads() throws {
        var full = 0, partial = 0, refused = 0, packets = 0, warned = 0
        for file in CaptureTestData.corpusFiles() {
            let bytes = try CaptureTestData.bytes(file)
            var reader: CaptureReader
            do {
                reader = try CaptureReader(bytes)
            } catch {
                refused += 1
                print("refused \(file.lastPathComponent): \(error)")
                continue
            }
            let read = reader.readAll()
            packets += read.count
            #expect(reader.isFinished)
            if let error = reader.error {
                partial += 1
                print("partial \(file.lastPathComponent): \(read.count) packets, then \(error)")
                #expect(error.offset < bytes.count, "\(file.lastPathComponent)")
            } else {
                full += 1
            }
            if !reader.warnings.isEmpty { warned += 1 }
            #expect(read.allSatisfy { $0.capturedLength <= bytes.count }, "\(file.lastPathComponent)")
        }
        if full + partial + refused > 0 {
            print("captures: \(full) read fully, \(partial) partial, \(refused) refused (\(packets) packets; \(warned) files with warnings)")
            #expect(full + partial + refused >= 830)
        }
    }

    /// read → write → read gives the same packets, in pcap (when the file has one link type
    /// and timestamps pcap can hold) and always in pcapng.
    @Test func everyFileRoundTrips() throws {
        var checked = 0
        for file in CaptureTestData.corpusFiles() {
            guard var reader = try? CaptureReader(try CaptureTestData.bytes(file)) else { continue }
            let packets = reader.readAll()
            let name = file.lastPathComponent

            var pcapng = CaptureWriter(format: .pcapng, precision: .nanoseconds)
            for interface in reader.interfaces { try pcapng.addInterface(interface) }
            for packet in packets { try pcapng.write(packet) }
            var again = try CaptureReader(pcapng.takeBytes())
            #expect(again.readAll() == packets, "\(name) through pcapng")
            #expect(again.error == nil, "\(name) through pcapng")
            #expect(again.interfaces.map(\.linkType) == reader.interfaces.map(\.linkType), "\(name)")

            if reader.interfaces.count == 1, let interface = reader.interfaces.first {
                var pcap = CaptureWriter(format: .pcap, precision: interface.timestampResolution == .microseconds ? TimestampPrecision.microseconds : .nanoseconds)
                try pcap.addInterface(interface)
                do {
                    for packet in packets { try pcap.write(packet) }
                    var back = try CaptureReader(pcap.takeBytes())
                    #expect(back.readAll() == packets.map { var p = $0; p.options = []; return p }, "\(name) through pcap")
                } catch let error as CaptureWriteError where error.kind == .timestampOutOfRange {
                    print("\(name): not written as pcap: \(error)")
                }
            }
            checked += 1
        }
        if checked > 0 { print("round trips: \(checked) files through pcapng and pcap") }
    }
}
