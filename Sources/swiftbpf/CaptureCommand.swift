import ArgumentParser
import BPFInstructions
import ClassicBPF
import Foundation
import PacketCapture
import PacketFilter

struct CaptureCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "capture",
        abstract: "Read packets from a capture file or a live interface, filter them and print or save them, as tcpdump does.",
        discussion: """
            The expression is a pcap filter (see `swiftbpf filter --help`), given as words the \
            way tcpdump takes it: `swiftbpf capture -r web.pcap tcp port 80` or quoted as one \
            argument. Packets read from a file are filtered by SwiftBPF's classic BPF \
            interpreter; on a live interface the filter runs in the kernel (SO_ATTACH_FILTER).

            Each matching packet prints as one line in tcpdump -n's words, after a \
            timestamp in local time (HH:MM:SS.microseconds; TZ chooses the zone, -t leaves it \
            out); Linux cooked v2 packets name this machine's interface of their index, as \
            tcpdump does. --json prints one JSON object \
            a packet instead, with the decoded layers. -w saves the matches as a pcap file \
            (microsecond timestamps, as tcpdump writes) instead of printing them. Names are \
            never resolved, so -n is accepted and changes nothing.

            Live capture (-i) needs root or CAP_NET_RAW; it runs until Ctrl-C or -c packets, \
            then prints on stderr how many packets were captured, received by the filter and \
            dropped by the kernel. `-i any` captures on every interface (Linux cooked headers). \
            Without -i or -r, as with tcpdump, the capture (or -d) is on the first interface \
            that is up and not loopback.

            On a live interface the filter is compiled as libpcap compiles it for one: \
            Linux takes the outer VLAN tag out of each received frame before a socket filter \
            runs, so `vlan` reads it through the ancillary loads, and inbound, outbound and \
            ifindex read the kernel's packet type and interface index; -d with -i prints that \
            program, as `tcpdump -i IF -d` does. Packets are saved and printed with their tag \
            put back.

            Examples:
              swiftbpf capture -r trace.pcap -t 'udp port 53'
              swiftbpf capture -r trace.pcapng -w web.pcap tcp port 80
              swiftbpf capture -i eth0 -c 10 icmp
              swiftbpf capture -r trace.pcap -ddd 'ip6 and tcp'
            """)

    @Option(name: .customShort("i", allowingJoined: true), help: ArgumentHelp("Capture live on this interface (any: all of them).", valueName: "interface"))
    var interface: String?
    @Option(name: .customShort("r", allowingJoined: true), help: ArgumentHelp("Read packets from this pcap or pcapng file (- for standard input), streamed in 1 MiB pieces.", valueName: "file"))
    var readFile: String?
    @Option(name: .customShort("w", allowingJoined: true), help: ArgumentHelp("Write the matching packets to this pcap file (- for standard output) instead of printing them.", valueName: "file"))
    var writeFile: String?
    @Option(name: .customShort("c", allowingJoined: true), help: ArgumentHelp("Stop after this many matching packets.", valueName: "count"))
    var count: Int?
    @Option(name: .customShort("s", allowingJoined: true), help: ArgumentHelp("Keep at most this many bytes of each live packet (0: 262144, the default).", valueName: "snaplen"))
    var snapshotLength: Int = 262_144
    @Flag(name: .customShort("n"), help: "Do not resolve names (SwiftBPF never does; accepted for tcpdump users).")
    var numeric = false
    @Flag(name: .customShort("t"), help: "Leave out the timestamp; -tt seconds since 1970, -ttt the time since the previous packet, -tttt the date too, -ttttt the time since the first packet (as tcpdump).")
    var timestampLevel: Int
    @Flag(name: .customShort("p"), help: "Do not put the interface into promiscuous mode.")
    var noPromiscuous = false
    @Flag(name: .customShort("d"), help: "Print the compiled filter and exit: -d as tcpdump -d, -dd as a C array, -ddd as decimal numbers.")
    var dumpLevel: Int
    @Flag(help: "Print one JSON object a packet.")
    var json = false
    @Argument(help: "The filter expression, as one or more words.")
    var expression: [String] = []

    var filterText: String { expression.joined(separator: " ") }
    /// The snapshot length to use: -s 0 means the largest, as in tcpdump.
    var snapshot: Int { snapshotLength == 0 ? 262_144 : snapshotLength }

    func validate() throws {
        guard interface == nil || readFile == nil else {
            throw ValidationError("give either -i INTERFACE or -r FILE, not both")
        }
        if let count, count < 1 { throw ValidationError("-c must be at least 1") }
        guard (0...262_144).contains(snapshotLength) else { throw ValidationError("-s must be between 0 (the default, 262144) and 262144") }
        if dumpLevel > 3 { throw ValidationError("-d may be given at most three times (-ddd)") }
        if timestampLevel > 5 { throw ValidationError("-t may be given at most five times (-ttttt)") }
    }

    func run() throws {
        if let readFile {
            try read(readFile)
        } else {
            try capture(on: interface ?? defaultInterface())
        }
    }

    /// As tcpdump: the first interface that is up and not loopback.
    func defaultInterface() -> String {
        #if os(Linux)
        LiveCapture.defaultInterface()
        #else
        "any"
        #endif
    }

    /// The classic program for `linkType`; nil when there is no expression (every packet matches).
    /// `fileByteOrder` is the byte order of the file being read, nil for a live capture.
    func compileFilter(_ linkType: LinkType, snapshotLength: Int? = nil, fileByteOrder: ByteOrder? = nil) throws -> ClassicProgram? {
        // A match returns the snapshot length, the file's when reading one, as libpcap does.
        let snapshotLength = UInt32(snapshotLength ?? snapshot)
        return try compile(linkType) { text, filterLinkType throws(FilterError) in
            try PacketFilter.compile(text, linkType: filterLinkType, snapshotLength: snapshotLength,
                                     fileByteOrder: fileByteOrder, resolver: SystemNameResolver())
        }
    }

    /// The filter the kernel runs on a live socket of `linkType`.
    func compileSocketFilter(_ linkType: LinkType) throws -> ClassicProgram? {
        let snapshotLength = UInt32(snapshot)
        return try compile(linkType) { text, filterLinkType throws(FilterError) in
            try PacketFilter.compileForSocket(text, linkType: filterLinkType, snapshotLength: snapshotLength, resolver: SystemNameResolver())
        }
    }

    /// `body`'s filter for the expression; nil when there is none; errors with a caret under the culprit.
    func compile<Filter>(_ linkType: LinkType, _ body: (String, FilterLinkType) throws(FilterError) -> Filter) throws -> Filter? {
        let text = filterText
        guard !text.trimmingCharacters(in: .whitespaces).isEmpty || dumpLevel > 0 else { return nil }
        guard let filterLinkType = FilterLinkType(linkTypeValue: linkType.rawValue) else {
            throw CommandError("capture: filters on link type \(linkType) are not supported (ethernet, raw, sll, sll2 and null are)")
        }
        do {
            return try body(text, filterLinkType)
        } catch {
            let caret = String(repeating: " ", count: error.offset) + String(repeating: "^", count: max(1, error.length))
            throw CommandError("capture: \(error)\n  \(text)\n  \(caret)")
        }
    }

    func dump(_ program: ClassicProgram) throws {
        try ClassicProgramOutput.print(program, dumpLevel: dumpLevel, ebpf: false, command: "capture")
    }

    // MARK: Reading a file

    func read(_ path: String) throws {
        var reader: CaptureFileReader
        do {
            reader = try CaptureFileReader(path: path)
        } catch {
            throw CommandError(error.kind == .unreadable ? "capture: \(error.message)" : "capture: \(path): \(error)")
        }
        let firstInterface = reader.firstInterface
        let firstLinkType = firstInterface?.linkType ?? .ethernet
        let byteOrder = reader.pcapHeader?.byteOrder ?? reader.sections.first?.byteOrder ?? .little
        let fileSnapshotLength = firstInterface.map { $0.snapshotLength == 0 ? 262_144 : Int($0.snapshotLength) }
        if dumpLevel > 0 {
            if let program = try compileFilter(firstLinkType, snapshotLength: fileSnapshotLength, fileByteOrder: byteOrder) { try dump(program) }
            return
        }
        FileHandle.standardError.write(Data("reading from file \(path), link-type \(firstLinkType)\n".utf8))
        if reader.interfaces.contains(where: { $0.linkType == .linuxSLL2 }) {
            // As tcpdump says: the names are this machine's, not necessarily the capturing one's.
            FileHandle.standardError.write(Data("Warning: interface names might be incorrect\n".utf8))
        }
        let output = try PacketOutput(timestamps: TimestampStyle(tCount: timestampLevel), json: json, writeFile: writeFile, linkType: firstLinkType, snapshotLength: firstInterface?.snapshotLength ?? 262_144)
        var filters: [LinkType: ClassicInterpreter?] = [:]
        let limit = count ?? Int.max
        var matched = 0
        var failure: Error?
        forEachRecord(&reader) { record, data in
            if failure != nil || matched >= limit { return }
            let filter: ClassicInterpreter?
            if let known = filters[record.linkType] {
                filter = known
            } else {
                do {
                    filter = try compileFilter(record.linkType, snapshotLength: fileSnapshotLength, fileByteOrder: byteOrder)
                        .map(ClassicInterpreter.init)
                } catch {
                    failure = error
                    return
                }
                filters[record.linkType] = filter
            }
            if let filter, filter.run(packet: data, wireLength: UInt32(truncatingIfNeeded: record.originalLength)) == 0 { return }
            matched += 1
            do {
                try output.emit(data: data, timestamp: record.timestamp, originalLength: record.originalLength, linkType: record.linkType)
            } catch {
                failure = error
            }
        }
        try output.finish()
        if let failure { throw failure }
        if let error = reader.error, matched < limit {
            throw CommandError("capture: \(path) is damaged after packet \(reader.packetCount): \(error)")
        }
    }

    @inline(never)
    func forEachRecord(_ reader: inout CaptureFileReader, _ body: (PacketRecord, UnsafeRawBufferPointer) -> Void) {
        reader.forEachRecord(body)
    }
}

/// Where matching packets go: lines (or JSON) on standard output, or a pcap file written
/// as the packets come.
final class PacketOutput {
    var timestamps: TimestampStyle
    let json: Bool
    let linkType: LinkType
    var printer = PacketPrinter()
    var file: CaptureFileWriter?
    var text = ""

    init(timestamps: TimestampStyle, json: Bool, writeFile: String?, linkType: LinkType, snapshotLength: UInt32) throws {
        self.timestamps = timestamps
        self.json = json
        self.linkType = linkType
        #if os(Linux)
        printer.interfaceNames = SystemInterfaceNames.current()
        #endif
        if let writeFile {
            do {
                file = try CaptureFileWriter(path: writeFile, format: .pcap, linkType: linkType, snapshotLength: snapshotLength, precision: .microseconds)
            } catch {
                throw CommandError("capture: \(error)")
            }
        }
    }

    func emit(data: UnsafeRawBufferPointer, timestamp: Int64, originalLength: Int, linkType: LinkType) throws {
        if file != nil {
            try save(data: data, timestamp: timestamp, originalLength: originalLength, linkType: linkType)
            return
        }
        let summary = PacketDecoder.decode(Array(data), originalLength: originalLength, linkType: linkType)
        let line = printer.line(summary)
        if json {
            text += Self.json(summary, line: line, timestamp: timestamp, capturedLength: data.count, originalLength: originalLength) + "\n"
        } else {
            text += timestamps.prefix(timestamp) + line + "\n"
        }
        if text.utf8.count > 1 << 16 { flush() }
    }

    func save(data: UnsafeRawBufferPointer, timestamp: Int64, originalLength: Int, linkType: LinkType) throws {
        guard linkType == self.linkType else {
            throw CommandError("capture: -w writes one link type, \(self.linkType); this packet is \(linkType)")
        }
        do {
            try file?.write(data: data, timestamp: timestamp, originalLength: originalLength)
        } catch {
            throw CommandError("capture: cannot write packet \(error)")
        }
    }

    func flush() {
        guard !text.isEmpty else { return }
        FileHandle.standardOutput.write(Data(text.utf8))
        text = ""
    }

    func finish() throws {
        flush()
        do {
            try file.take()?.close()
        } catch {
            throw CommandError("capture: \(error)")
        }
    }

    /// tcpdump's default timestamp, `HH:MM:SS.uuuuuu`, in local time as tcpdump prints it
    /// (the TZ environment variable chooses the zone).
    static func time(_ nanoseconds: Int64) -> String {
        let (seconds, fraction) = TimestampStyle.split(nanoseconds)
        var ofDay = ((seconds % 86_400) + 86_400) % 86_400
        var clock = time_t(seconds)
        var local = tm()
        if localtime_r(&clock, &local) != nil {
            ofDay = Int64(local.tm_hour) * 3600 + Int64(local.tm_min) * 60 + Int64(local.tm_sec)
        }
        let two = TimestampStyle.two
        return "\(two(ofDay / 3600)):\(two(ofDay / 60 % 60)):\(two(ofDay % 60)).\(TimestampStyle.six(fraction))"
    }

    struct JSONPacket: Encodable {
        var timestamp: String
        var timestampNanoseconds: Int64
        var capturedLength: Int
        var originalLength: Int
        var line: String
        var layers: [PacketLayer]
        var truncatedIn: String?
    }

    static func json(_ summary: PacketSummary, line: String, timestamp: Int64, capturedLength: Int, originalLength: Int) -> String {
        let packet = JSONPacket(
            timestamp: time(timestamp), timestampNanoseconds: timestamp, capturedLength: capturedLength,
            originalLength: originalLength, line: line, layers: summary.layers, truncatedIn: summary.truncatedIn)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        guard let data = try? encoder.encode(packet) else { return "{}" }
        return String(decoding: data, as: UTF8.self)
    }
}

extension CaptureCommand {
    /// Live capture until Ctrl-C or -c packets, then tcpdump's three counters on stderr.
    func capture(on interface: String) throws {
        #if os(Linux)
        let linkType: LinkType
        do {
            linkType = try LiveCapture.linkType(of: interface)
        } catch {
            throw CommandError("capture: \(interface): \(error)")
        }
        let filter = try compileSocketFilter(linkType)
        if dumpLevel > 0 {
            if let filter { try dump(filter) }
            return
        }
        let capture: LiveCapture
        do {
            capture = try LiveCapture(.init(
                interface: interface, filter: filter, promiscuous: !noPromiscuous,
                snapshotLength: snapshot))
        } catch {
            throw CommandError("capture: \(interface): \(error)")
        }
        FileHandle.standardError.write(Data("listening on \(interface), link-type \(linkType), snapshot length \(snapshot) bytes\n".utf8))
        // Ctrl-C, kill and timeout (SIGTERM) and a closed terminal (SIGHUP) all stop the
        // capture the same way, so the counts print and a -w file is complete, as in tcpdump.
        let stops = [SIGINT, SIGTERM, SIGHUP].map { signalNumber in
            signal(signalNumber, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: signalNumber, queue: .global())
            source.setEventHandler { capture.close() }
            source.resume()
            return source
        }
        let done = DispatchSemaphore(value: 0)
        let outcome = LiveOutcome()
        let limit = count ?? Int.max
        let settings = (timestamps: TimestampStyle(tCount: timestampLevel), json: json, writeFile: writeFile, snapshotLength: UInt32(snapshot))
        Task {
            do {
                let output = try PacketOutput(timestamps: settings.timestamps, json: settings.json, writeFile: settings.writeFile, linkType: linkType, snapshotLength: settings.snapshotLength)
                for try await packet in capture.packets {
                    try packet.data.withUnsafeBytes { data in
                        try output.emit(data: data, timestamp: packet.timestamp, originalLength: packet.originalLength, linkType: packet.linkType)
                    }
                    output.flush()
                    outcome.captured += 1
                    if outcome.captured >= limit { break }
                }
                try output.finish()
            } catch {
                outcome.failure = "\(error)"
            }
            done.signal()
        }
        done.wait()
        for source in stops { source.cancel() }
        capture.close()
        let statistics = capture.statistics()
        FileHandle.standardError.write(Data("""
            \(outcome.captured) packets captured
            \(statistics.received) packets received by filter
            \(statistics.droppedByKernel) packets dropped by kernel\n
            """.utf8))
        if statistics.droppedByReader > 0 {
            FileHandle.standardError.write(Data("\(statistics.droppedByReader) packets dropped because the output fell behind\n".utf8))
        }
        if let failure = outcome.failure { throw CommandError("capture: \(interface): \(failure)") }
        #else
        throw CommandError("capture: live capture needs Linux")
        #endif
    }
}

/// What the capture task reports back to the waiting command.
final class LiveOutcome: @unchecked Sendable {  // written by the task, read after the semaphore
    var captured = 0
    var failure: String?
}
