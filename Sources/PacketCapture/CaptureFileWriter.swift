import BPFInstructions

/// Writes a pcap or pcapng file to disk (or `-`, standard output) through a buffer that
/// goes out whenever it holds `chunkSize` bytes, so memory stays small however much is
/// written. `close()` writes the rest; dropping the writer without it loses what is still
/// buffered.
///
/// ```swift
/// var file = try CaptureFileWriter(path: "web.pcap", format: .pcap, linkType: .ethernet)
/// try file.write(data: bytes, timestamp: nanoseconds, originalLength: length)
/// try file.close()
/// ```
@dynamicMemberLookup
public struct CaptureFileWriter: ~Copyable {
    /// The writer whose output is buffered; its `bytes` are what has not gone out yet.
    public private(set) var writer: CaptureWriter
    public let chunkSize: Int
    /// Bytes already sent to the file.
    public private(set) var flushedCount = 0
    private let file: CaptureFile

    /// The file's size once everything buffered has gone out (tcpdump -C compares it).
    public var size: Int { flushedCount + writer.bytes.count }

    /// Creates (or empties) `path` and writes to it what `writer` produces, starting with
    /// the file header it already holds.
    public init(path: String, writer: CaptureWriter, chunkSize: Int = 1 << 20) throws(CaptureWriteError) {
        do {
            file = try CaptureFile(writing: path)
        } catch {
            throw CaptureWriteError(.unwritable, error.message)
        }
        self.writer = writer
        self.chunkSize = Swift.max(chunkSize, 64)
    }

    /// A file of one interface of `linkType`, the usual case.
    public init(path: String, format: CaptureFormat, linkType: LinkType, snapshotLength: UInt32 = 262_144, precision: TimestampPrecision = .microseconds, byteOrder: ByteOrder = .little, chunkSize: Int = 1 << 20) throws(CaptureWriteError) {
        try self.init(path: path, writer: CaptureWriter(format: format, linkType: linkType, snapshotLength: snapshotLength, precision: precision, byteOrder: byteOrder), chunkSize: chunkSize)
    }

    public subscript<Value>(dynamicMember keyPath: KeyPath<CaptureWriter, Value>) -> Value {
        writer[keyPath: keyPath]
    }

    /// Adds an interface and returns its index; pcap takes one.
    @discardableResult
    public mutating func addInterface(_ interface: CaptureInterface) throws(CaptureWriteError) -> Int {
        try writer.addInterface(interface)
    }

    /// Writes one packet from raw bytes.
    public mutating func write(data: UnsafeRawBufferPointer, timestamp: Int64, originalLength: Int, interfaceIndex: Int = 0, options: [CaptureOption] = []) throws(CaptureWriteError) {
        try writer.write(data: data, timestamp: timestamp, originalLength: originalLength, interfaceIndex: interfaceIndex, options: options)
        if writer.bytes.count >= chunkSize { try flush() }
    }

    /// Writes one pcap record with another pcap file's time fields as they were.
    public mutating func write(data: UnsafeRawBufferPointer, pcapTime: PcapRecordTime, originalLength: Int) throws(CaptureWriteError) {
        try writer.write(data: data, pcapTime: pcapTime, originalLength: originalLength)
        if writer.bytes.count >= chunkSize { try flush() }
    }

    /// Writes `packet` on interface `packet.interfaceIndex`.
    public mutating func write(_ packet: Packet) throws(CaptureWriteError) {
        try writer.write(packet)
        if writer.bytes.count >= chunkSize { try flush() }
    }

    /// Sends everything buffered to the file.
    public mutating func flush() throws(CaptureWriteError) {
        flushedCount += writer.bytes.count
        if let failure = writeOut(&writer, to: file) {
            throw CaptureWriteError(.unwritable, failure.message)
        }
    }

    /// Writes what is buffered and closes the file.
    public consuming func close() throws(CaptureWriteError) {
        defer { file.close() }
        try flush()
    }
}

/// Writes the writer's buffered bytes and empties its buffer; kept out of typed-throws
/// functions, whose errors a closure passed to `withUnsafeBytes` can clobber in release
/// builds.
@inline(never)
private func writeOut(_ writer: inout CaptureWriter, to file: CaptureFile) -> CaptureFile.Failure? {
    let failure: CaptureFile.Failure? = writer.bytes.withUnsafeBytes { bytes -> CaptureFile.Failure? in
        do throws(CaptureFile.Failure) {
            try file.write(bytes)
            return nil
        } catch {
            return error
        }
    }
    writer.discardBytes()
    return failure
}
