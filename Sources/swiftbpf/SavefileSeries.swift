import Foundation
import PacketCapture

/// What `-w`, `-C`, `-G` and `-W` ask for.
struct SavefileTarget: Sendable {
    var name: String
    /// Bytes a file may reach before the next packet starts a new one (`-C` millions).
    var sizeLimit: Int?
    /// Seconds after which the next packet starts a new file (`-G`); the name is then a
    /// strftime(3) pattern, filled in with the local time the file starts.
    var secondsPerFile: Int?
    /// With -C, how many files before the first is written over again; with -G alone, how
    /// many files before the capture ends (`-W`).
    var fileLimit: Int?
    /// A program run on each file that rotation closes, with the file's name (`-z`).
    var postRotateCommand: String?

    /// tcpdump's name for file `number` of the period that began at `start`: the name (its
    /// time filled in with -G), then with -C the number, as many digits as -W's last needs;
    /// no number for the first file without -W.
    func fileName(number: Int, start: Int) throws(CaptureWriteError) -> String {
        var base = name
        if secondsPerFile != nil {
            guard let formatted = Self.localTime(name, start) else {
                throw CaptureWriteError(.unwritable, "-w \(name): the name with -G's time filled in is longer than a path may be")
            }
            base = formatted
        }
        guard sizeLimit != nil else { return base }
        var width = 0
        if let fileLimit {
            var last = fileLimit - 1
            while last > 0 { width += 1; last /= 10 }
        }
        if number == 0 && width == 0 { return base }
        let digits = String(number)
        return base + String(repeating: "0", count: max(0, width - digits.count)) + digits
    }

    /// `pattern` with strftime(3)'s conversions filled in for `seconds` in local time.
    static func localTime(_ pattern: String, _ seconds: Int) -> String? {
        var time = time_t(seconds)
        var parts = tm()
        guard localtime_r(&time, &parts) != nil else { return nil }
        var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
        let count = strftime(&buffer, buffer.count, pattern, &parts)
        guard count > 0 || pattern.isEmpty else { return nil }
        return String(decoding: buffer[..<count].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}

/// The files `-w` writes: one, or a series where a new file starts before a packet once the
/// current one has grown past `-C`'s size or lived `-G`'s seconds, as tcpdump rotates them.
/// Names are tcpdump's: NAME, NAME1, NAME2, …; with `-W N`, NAME0 … NAME(N-1) padded to one
/// width and reused in turn; with -G, NAME's strftime conversions give each period's time.
struct SavefileSeries: ~Copyable {
    let target: SavefileTarget
    /// A writer with the file header every file of the series starts with.
    let header: CaptureWriter
    private(set) var current: CaptureFileWriter?
    private(set) var currentName: String
    /// The -C number of the current file within its period.
    private(set) var number = 0
    /// When the current -G period began (seconds since 1970), and how many have ended.
    private(set) var periodStart: Int
    private(set) var periodsEnded = 0
    /// Records written with their seconds wrapped, in all the files.
    private(set) var wrappedSecondsCount = 0

    init(_ target: SavefileTarget, header: CaptureWriter, now: Int = Int(time(nil))) throws(CaptureWriteError) {
        let name = try target.fileName(number: 0, start: now)
        let first = try CaptureFileWriter(path: name, writer: header)
        self.target = target
        self.header = header
        periodStart = now
        currentName = name
        current = consume first
    }

    /// Closes the current file for rotation, hands it to -z's program, and opens the next.
    private mutating func rotate(to name: String?) throws(CaptureWriteError) {
        try close()
        if let command = target.postRotateCommand { Self.start(command, on: currentName) }
        guard let name else { return }
        currentName = name
        current = try CaptureFileWriter(path: name, writer: header)
    }

    /// Runs `command FILE` at the lowest priority without waiting, as tcpdump -z does; a
    /// program that cannot start is reported, and the capture goes on.
    static func start(_ command: String, on file: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["nice", "-n", "19", command, file]
        do {
            try process.run()
        } catch {
            printError("warning: -z: cannot run \(command) \(file): \(error.localizedDescription)")
        }
    }

    /// Starts the next file when the current one has lived -G's seconds or grown past -C's
    /// size, as tcpdump checks before each packet (so a file may end past the size with the
    /// packet that took it there). False when -G with -W has ended its last file: the
    /// capture is over, and the packet is not written.
    mutating func startNextFileIfDue(now: Int) throws(CaptureWriteError) -> Bool {
        if let seconds = target.secondsPerFile, now - periodStart >= seconds {
            periodStart = now
            periodsEnded += 1
            if target.sizeLimit == nil, let fileLimit = target.fileLimit, periodsEnded >= fileLimit {
                try rotate(to: nil)
                return false
            }
            number = 0
            try rotate(to: target.fileName(number: 0, start: periodStart))
        }
        if let sizeLimit = target.sizeLimit, let size = current?.size, size > sizeLimit {
            number += 1
            if let fileLimit = target.fileLimit, number >= fileLimit { number = 0 }
            try rotate(to: target.fileName(number: number, start: periodStart))
        }
        return true
    }

    /// Writes one packet into the current file; false (and nothing written) when the
    /// series has ended (see `startNextFileIfDue`).
    mutating func write(data: UnsafeRawBufferPointer, timestamp: Int64, originalLength: Int, pcapTime: PcapRecordTime?) throws(CaptureWriteError) -> Bool {
        // The clock is read only for -G, as this runs for every packet.
        guard try startNextFileIfDue(now: target.secondsPerFile == nil ? periodStart : Int(time(nil))) else { return false }
        if let pcapTime {
            try current?.write(data: data, pcapTime: pcapTime, originalLength: originalLength)
        } else {
            try current?.write(data: data, timestamp: timestamp, originalLength: originalLength)
        }
        return true
    }

    mutating func flush() throws(CaptureWriteError) { try current?.flush() }

    /// Writes out and closes the current file.
    mutating func close() throws(CaptureWriteError) {
        wrappedSecondsCount += current?.wrappedSecondsCount ?? 0
        try current.take()?.close()
    }
}
