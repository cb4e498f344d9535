import PacketCapture

/// What `-w`, `-C` and `-W` ask for.
struct SavefileTarget: Sendable {
    var name: String
    /// Bytes a file may reach before the next packet starts a new one (`-C`, in millions).
    var sizeLimit: Int?
    /// How many files before the first is written over again (`-W`).
    var fileLimit: Int?

    /// tcpdump's name for file `number`: NAME itself when files are not rotated, or for the
    /// first with no -W; else NAME and the number, with as many digits as -W's last needs.
    func fileName(number: Int) -> String {
        guard sizeLimit != nil else { return name }
        var width = 0
        if let fileLimit {
            var last = fileLimit - 1
            while last > 0 { width += 1; last /= 10 }
        }
        if number == 0 && width == 0 { return name }
        let digits = String(number)
        return name + String(repeating: "0", count: max(0, width - digits.count)) + digits
    }
}

/// The files `-w` writes: one, or with `-C` a series, where a new file starts before a
/// packet whenever the current one has grown past the size. Names are tcpdump's: NAME,
/// NAME1, NAME2, …; with `-W N`, NAME0 … NAME(N-1) padded to one width and reused in turn.
struct SavefileSeries: ~Copyable {
    let target: SavefileTarget
    /// A writer with the file header every file of the series starts with.
    let header: CaptureWriter
    private(set) var current: CaptureFileWriter?
    private(set) var number = 0
    /// Records written with their seconds wrapped, in all the files.
    private(set) var wrappedSecondsCount = 0

    init(_ target: SavefileTarget, header: CaptureWriter) throws(CaptureWriteError) {
        self.target = target
        self.header = header
        current = try CaptureFileWriter(path: target.fileName(number: 0), writer: header)
    }

    /// Starts the next file when the current one is past the size limit, as tcpdump checks
    /// before each packet (so a file ends with the packet that took it past).
    mutating func startNextFileIfFull() throws(CaptureWriteError) {
        guard let sizeLimit = target.sizeLimit, let size = current?.size, size > sizeLimit else { return }
        try close()
        number += 1
        if let fileLimit = target.fileLimit, number >= fileLimit { number = 0 }
        current = try CaptureFileWriter(path: target.fileName(number: number), writer: header)
    }

    mutating func write(data: UnsafeRawBufferPointer, timestamp: Int64, originalLength: Int, pcapTime: PcapRecordTime?) throws(CaptureWriteError) {
        try startNextFileIfFull()
        if let pcapTime {
            try current?.write(data: data, pcapTime: pcapTime, originalLength: originalLength)
        } else {
            try current?.write(data: data, timestamp: timestamp, originalLength: originalLength)
        }
    }

    mutating func flush() throws(CaptureWriteError) { try current?.flush() }

    /// Writes out and closes the current file.
    mutating func close() throws(CaptureWriteError) {
        wrappedSecondsCount += current?.wrappedSecondsCount ?? 0
        try current.take()?.close()
    }
}
