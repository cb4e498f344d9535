import BPFInstructions
import BPFObject

/// Reads a pcap or pcapng file from disk (or `-`, standard input) a window at a time, so
/// memory stays at one window — `chunkSize` bytes, or the largest record if that is
/// larger — whatever the size of the file.
///
/// ```swift
/// let file = try CaptureFileReader(path: "trace.pcapng")
/// file.forEachRecord { record, bytes in ... }   // no copy per packet
/// if let error = file.error { ... }             // the file is damaged after the last packet
/// ```
///
/// It reads what `CaptureReader` reads, with the same errors, partial reads and warnings;
/// their offsets are offsets in the file. The properties of `CaptureReader` (`format`,
/// `interfaces`, `error`, `warnings`, `packetCount`, ...) are reachable directly.
@dynamicMemberLookup
public struct CaptureFileReader: ~Copyable {
    /// The reader over the current window: `reader.bytes[record.dataRange]` are a record's
    /// bytes until the next call that reads.
    public private(set) var reader: CaptureReader
    public let chunkSize: Int
    private let file: CaptureFile

    /// Opens `path` and reads the file header (pcap) or first section header (pcapng).
    public init(path: String, chunkSize: Int = 1 << 20) throws(CaptureError) {
        let chunkSize = Swift.max(chunkSize, 64)
        let file: CaptureFile
        do {
            file = try CaptureFile(reading: path)
        } catch {
            throw CaptureError(.unreadable, error.message, offset: 0)
        }
        reader = try Self.start(file, chunkSize: chunkSize)
        self.file = file
        self.chunkSize = chunkSize
    }

    /// A reader over the first window of the file.
    /// A pipe delivers what has been written so far, so it reads on until the file header
    /// and, in pcapng, the first interface are in memory (or the file ends).
    private static func start(_ file: CaptureFile, chunkSize: Int) throws(CaptureError) -> CaptureReader {
        var window = [UInt8](repeating: 0, count: chunkSize)
        var count = 0
        while true {
            let read = try fill(&window, from: count, file)
            count += read
            let atEnd = read == 0
            do {
                let reader = try CaptureReader(window: window, count: count, isComplete: atEnd)
                if atEnd || !reader.interfacesAhead().pastWindow { return reader }
            } catch {
                // A magic number or first section header not all here yet: read on.
                guard error.kind == .truncated || count < 4, !atEnd else { throw error }
            }
            if count == window.count { window.append(contentsOf: repeatElement(0, count: window.count)) }
        }
    }

    /// Closes the file (deinit does too); reading stops.
    public func close() { file.close() }

    public subscript<Value>(dynamicMember keyPath: KeyPath<CaptureReader, Value>) -> Value {
        reader[keyPath: keyPath]
    }

    /// The file's first interface. A pcapng file describes it in a block after the section
    /// header, so until a packet has been read it is found by reading ahead, on a copy of
    /// the reader, in the part of the file already in memory.
    public var firstInterface: CaptureInterface? { reader.interfacesAhead().interfaces.first }

    /// The interfaces described before the first packet (pcap: the file's one), found as
    /// `firstInterface` is.
    public var interfacesBeforeFirstPacket: [CaptureInterface] { reader.interfacesAhead().interfaces }

    /// The next packet's position and metadata; its bytes are `reader.bytes[dataRange]`
    /// until the next call. Nil at the end of the file or when `error` is set.
    public mutating func nextRecord() -> PacketRecord? {
        while true {
            if let record = reader.nextRecord() { return record }
            guard reader.wanted > 0 else { return nil }
            reader.refill(from: file, chunkSize: chunkSize)
        }
    }

    /// The next packet with its bytes and options copied out.
    public mutating func next() -> Packet? {
        while true {
            if let packet = reader.next() { return packet }
            guard reader.wanted > 0 else { return nil }
            reader.refill(from: file, chunkSize: chunkSize)
        }
    }

    /// Every remaining packet; check `error` afterwards to tell a full read from a partial one.
    public mutating func readAll() -> [Packet] {
        var packets: [Packet] = []
        while let packet = next() { packets.append(packet) }
        return packets
    }

    /// Visits every remaining packet's record and bytes without copying them. The buffer
    /// is only valid inside `body`; the record's ranges are in the current window.
    public mutating func forEachRecord(_ body: (PacketRecord, UnsafeRawBufferPointer) throws -> Void) rethrows {
        while true {
            try reader.forEachRecord(body)
            guard reader.wanted > 0 else { return }
            reader.refill(from: file, chunkSize: chunkSize)
        }
    }

    /// Reads into `window` from `start`, as much as one read gives; 0 at the end of the file.
    private static func fill(_ window: inout [UInt8], from start: Int, _ file: CaptureFile) throws(CaptureError) -> Int {
        switch readFile(file, into: &window, from: start) {
        case .success(let count): return count
        case .failure(let failure): throw CaptureError(.unreadable, failure.message, offset: start)
        }
    }
}

/// One read into an array; kept out of typed-throws functions, whose errors a closure
/// passed to `withUnsafeMutableBytes` can clobber in release builds.
@inline(never)
func readFile(_ file: CaptureFile, into window: inout [UInt8], from start: Int) -> Result<Int, CaptureFile.Failure> {
    window.withUnsafeMutableBytes { buffer in
        Result { () throws(CaptureFile.Failure) in try file.read(into: UnsafeMutableRawBufferPointer(rebasing: buffer[start...])) }
    }
}

extension CaptureReader {
    /// The interfaces up to the first packet, found by reading ahead on a copy when a pcapng
    /// file describes them after the section header; `pastWindow` when none is found in the
    /// bytes in memory but one may lie past them.
    func interfacesAhead() -> (interfaces: [CaptureInterface], pastWindow: Bool) {
        if packetCount > 0 || (format == .pcap && !interfaces.isEmpty) { return (interfaces, false) }
        var probe = self
        _ = probe.nextRecord()
        return (probe.interfaces, probe.interfaces.isEmpty && probe.wanted > 0)
    }

    /// Stops at a record that runs past `end` when more of the file may follow: `wanted`
    /// says how many bytes from `offset` it needs. False for a complete file, whose
    /// records are then too short.
    @discardableResult
    mutating func awaitMore(_ count: Int) -> Bool {
        guard !isComplete else { return false }
        wanted = count
        return true
    }

    /// Moves the unread bytes to the front of the window and reads after them, towards
    /// `wanted` bytes from `offset` or the end of the file. A read error becomes `error`
    /// and ends the reading.
    mutating func refill(from file: CaptureFile, chunkSize: Int) {
        let kept = end - offset
        var size = Swift.max(chunkSize, bytes.count)
        // The window doubles only once it is full of unread bytes, so it grows with what the
        // file holds: a damaged length of 4 GiB in a short file takes no more memory than the file.
        if wanted > size, kept == bytes.count { size = Swift.min(wanted, 2 * size) }
        let order = reader.order
        reader = ByteReader([])  // leaves `bytes` uniquely referenced, so it changes in place
        if bytes.count < size { bytes.append(contentsOf: repeatElement(0, count: size - bytes.count)) }
        moveToFront(&bytes, from: offset, count: kept)
        windowOffset += offset
        offset = 0
        let result = readFile(file, into: &bytes, from: kept)
        let count: Int
        switch result {
        case .success(let read):
            count = kept + read
            // A short read is what a pipe has so far; only an empty one is the end.
            isComplete = read == 0
        case .failure(let failure):
            count = kept
            isComplete = true
            error = CaptureError(.unreadable, failure.message, offset: kept)
        }
        end = count
        wanted = 0
        reader = ByteReader(bytes, count: count, order: order)
        if error != nil { finish() }
    }
}

@inline(never)
private func moveToFront(_ bytes: inout [UInt8], from start: Int, count: Int) {
    guard start > 0, count > 0 else { return }
    bytes.withUnsafeMutableBytes { buffer in
        guard let base = buffer.baseAddress else { return }
        (base).copyMemory(from: base + start, byteCount: count)
    }
}
