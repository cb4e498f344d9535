import BPFInstructions
import Foundation
import PacketCapture
import Testing

/// The streaming file reader and writer against the in-memory ones: every capture of the
/// corpus read from disk through windows far smaller than its records gives the same
/// packets, options, interfaces, warnings and errors (with the same file offsets) as the
/// whole file read from memory; files written through a small buffer hold the same bytes.
struct CaptureFileTests {
    @Test(arguments: [64, 1000, 1 << 20])
    func everyCorpusFileReadsAsFromMemory(chunkSize: Int) throws {
        var compared = 0, refused = 0, partial = 0
        for file in CaptureTestData.corpusFiles() {
            let name = file.lastPathComponent
            let bytes = try CaptureTestData.bytes(file)
            let memory: CaptureReader
            do throws(CaptureError) {
                memory = try CaptureReader(bytes)
            } catch {
                // The same refusal, word for word.
                #expect(throws: error) { _ = try CaptureFileReader(path: file.path, chunkSize: chunkSize) }
                refused += 1
                continue
            }
            var inMemory = memory
            var streamed = try CaptureFileReader(path: file.path, chunkSize: chunkSize)
            let expected = inMemory.readAll()
            let packets = streamed.readAll()
            #expect(packets == expected, "\(name)")
            #expect(streamed.error == inMemory.error, "\(name)")
            #expect(streamed.warnings == inMemory.warnings, "\(name)")
            #expect(streamed.omittedWarningCount == inMemory.omittedWarningCount, "\(name)")
            #expect(streamed.interfaces == inMemory.interfaces, "\(name)")
            #expect(streamed.sections == inMemory.sections, "\(name)")
            #expect(streamed.packetCount == inMemory.packetCount, "\(name)")
            if inMemory.error != nil { partial += 1 }
            compared += 1
        }
        if compared > 0 {
            print("streamed with \(chunkSize)-byte windows: \(compared) files as from memory (\(partial) partial), \(refused) refused alike")
            #expect(compared + refused >= 830)
        }
    }

    /// Corpus files cut short at several places (inside headers, records and blocks) stop
    /// with the same packets, error and warnings from disk as from memory.
    @Test func cutFilesFailAsFromMemory() throws {
        var compared = 0, failed = 0
        for file in CaptureTestData.corpusFiles().prefix(120) {
            let bytes = try CaptureTestData.bytes(file)
            for cut in Set([bytes.count / 3, bytes.count / 2 + 5, bytes.count - 7]) where cut > 0 && cut < bytes.count {
                let prefix = Array(bytes[..<cut])
                let path = try temporaryFile(prefix)
                defer { try? FileManager.default.removeItem(atPath: path) }
                guard var memory = try? CaptureReader(prefix) else {
                    #expect(throws: CaptureError.self) { _ = try CaptureFileReader(path: path, chunkSize: 128) }
                    continue
                }
                var streamed = try CaptureFileReader(path: path, chunkSize: 128)
                #expect(streamed.readAll() == memory.readAll(), "\(file.lastPathComponent) cut at \(cut)")
                #expect(streamed.error == memory.error, "\(file.lastPathComponent) cut at \(cut)")
                #expect(streamed.warnings == memory.warnings, "\(file.lastPathComponent) cut at \(cut)")
                if memory.error != nil { failed += 1 }
                compared += 1
            }
        }
        if CaptureTestData.corpus != nil {
            print("cut files: \(compared) compared, \(failed) of them stopping with an error")
            #expect(failed > 100)
        }
    }

    /// Records and their bytes without copying, and record offsets in the file, as from memory.
    @Test func recordsWithoutCopyingAsFromMemory() throws {
        var checked = 0
        for file in CaptureTestData.corpusFiles().prefix(200) {
            let bytes = try CaptureTestData.bytes(file)
            guard var memory = try? CaptureReader(bytes) else { continue }
            var expected: [(PacketRecord, [UInt8])] = []
            memory.forEachRecord { record, data in expected.append((record, Array(data))) }
            var streamed = try CaptureFileReader(path: file.path, chunkSize: 100)
            var seen: [(PacketRecord, [UInt8])] = []
            streamed.forEachRecord { record, data in seen.append((record, Array(data))) }
            #expect(seen.count == expected.count, "\(file.lastPathComponent)")
            for ((record, data), (want, wantData)) in zip(seen, expected) {
                #expect(record.offset == want.offset && record.timestamp == want.timestamp && data == wantData, "\(file.lastPathComponent)")
            }
            checked += 1
        }
        if CaptureTestData.corpus != nil { #expect(checked > 100) }
    }

    /// A packet block larger than the window, and a first section header larger than it.
    @Test func recordsLargerThanTheWindow() throws {
        var writer = CaptureWriter(format: .pcapng, precision: .nanoseconds, sectionOptions: [CaptureOption(code: 1, string: String(repeating: "c", count: 3000))])
        try writer.addInterface(CaptureInterface(linkType: .ethernet, snapshotLength: 0))
        let sizes = [60, 5000, 70, 9000, 1]
        for (index, size) in sizes.enumerated() {
            let data = (0..<size).map { UInt8(truncatingIfNeeded: $0 &+ index) }
            try writer.write(Packet(timestamp: Int64(index) * 1_000, originalLength: size, data: data, linkType: .ethernet))
        }
        let path = try temporaryFile(writer.takeBytes())
        defer { try? FileManager.default.removeItem(atPath: path) }
        var streamed = try CaptureFileReader(path: path, chunkSize: 256)
        #expect(streamed.readAll().map(\.capturedLength) == sizes)
        #expect(streamed.error == nil)
        #expect(streamed.sections.first?.options.first?.value.count == 3000)
    }

    /// A file cut inside a record stops there with the error the in-memory reader gives.
    @Test func truncatedFileStopsWhereTheMemoryReaderDoes() throws {
        var writer = CaptureWriter(format: .pcap, linkType: .ethernet)
        for index in 0..<50 {
            let data = [UInt8](repeating: UInt8(index), count: 100)
            try writer.write(Packet(timestamp: Int64(index) * 1_000, originalLength: 100, data: data, linkType: .ethernet))
        }
        let bytes = Array(writer.takeBytes().dropLast(30))
        let path = try temporaryFile(bytes)
        defer { try? FileManager.default.removeItem(atPath: path) }
        var memory = try CaptureReader(bytes)
        var streamed = try CaptureFileReader(path: path, chunkSize: 512)
        #expect(streamed.readAll() == memory.readAll())
        #expect(streamed.error?.kind == .truncated)
        #expect(streamed.error == memory.error)
        #expect(streamed.error?.packetNumber == 50)
    }

    /// A damaged length of nearly 4 GiB in a short file: the error the in-memory reader
    /// gives, with a window no larger than the file needs (it once allocated the length).
    @Test func hugeLengthInAShortFileTakesNoMemory() throws {
        var pcapng = CaptureBytes()
        pcapng.sectionHeader()
        pcapng.interface()
        pcapng.u32(6)
        pcapng.u32(0xffff_f000)
        pcapng.raw([UInt8](repeating: 0, count: 40))
        var pcap = CaptureBytes()
        pcap.pcapHeader(snapshotLength: 0xffff_ffff)
        pcap.u32(1)
        pcap.u32(0)
        pcap.u32(0x7fff_fff0)
        pcap.u32(0x7fff_fff0)
        pcap.raw([UInt8](repeating: 0, count: 40))
        for bytes in [pcapng.bytes, pcap.bytes] {
            let path = try temporaryFile(bytes)
            defer { try? FileManager.default.removeItem(atPath: path) }
            var memory = try CaptureReader(bytes)
            var streamed = try CaptureFileReader(path: path, chunkSize: 4096)
            #expect(streamed.readAll() == memory.readAll())
            #expect(streamed.error != nil)
            #expect(streamed.error == memory.error)
            #expect(streamed.reader.bytes.count == 4096)
        }
    }

    @Test func missingFileIsAnErrorNamingIt() {
        #expect {
            _ = try CaptureFileReader(path: "/nonexistent/trace.pcap")
        } throws: { error in
            guard let error = error as? CaptureError else { return false }
            return error.kind == .unreadable && error.message.contains("/nonexistent/trace.pcap")
        }
        #expect {
            _ = try CaptureFileWriter(path: "/nonexistent/out.pcap", format: .pcap, linkType: .ethernet)
        } throws: { error in
            guard let error = error as? CaptureWriteError else { return false }
            return error.kind == .unwritable && error.message.contains("/nonexistent/out.pcap")
        }
    }

    /// Written through a 100-byte buffer, a file holds exactly what the in-memory writer
    /// produces, in both formats.
    @Test(arguments: [CaptureFormat.pcap, .pcapng])
    func writtenFileMatchesTheMemoryWriter(format: CaptureFormat) throws {
        let path = NSTemporaryDirectory() + "/swiftbpf-capture-file-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: path) }
        var memory = CaptureWriter(format: format, linkType: .ethernet, precision: .nanoseconds)
        var file = try CaptureFileWriter(path: path, format: format, linkType: .ethernet, precision: .nanoseconds, chunkSize: 100)
        for index in 0..<300 {
            let data = (0..<(40 + index % 70)).map { UInt8(truncatingIfNeeded: $0 &* index) }
            try data.withUnsafeBytes { bytes in
                try memory.write(data: bytes, timestamp: 1_700_000_000_000_000_000 + Int64(index), originalLength: data.count + 1)
                try file.write(data: bytes, timestamp: 1_700_000_000_000_000_000 + Int64(index), originalLength: data.count + 1)
            }
        }
        #expect(file.packetCount == 300)
        #expect(file.bytes.count < 100 + 200)  // buffered output went out as it grew
        try file.close()
        #expect(try CaptureTestData.bytes(URL(fileURLWithPath: path)) == memory.takeBytes())
    }

    private func temporaryFile(_ bytes: [UInt8]) throws -> String {
        let path = NSTemporaryDirectory() + "/swiftbpf-capture-file-\(UUID().uuidString)"
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        return path
    }
}
