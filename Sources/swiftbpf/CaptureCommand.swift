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
            (microsecond timestamps, as tcpdump writes) instead of printing them; a pcap file \
            read with -r keeps its link-type field and record times exactly, as with tcpdump. \
            Names are never resolved, so -n is accepted and changes nothing.

            As in tcpdump, -x, -X and -A print each packet's bytes under its line (hex, hex \
            beside the printable characters, text), without the link-layer header; -xx, -XX \
            and -AA keep it. -e starts each line with the link-layer header, -q ends TCP and \
            UDP lines with their payload's length, -v adds the IP headers' fields and the \
            checksums (an IPv4 packet's line breaks after its header, as in tcpdump -v), -S prints TCP \
            sequence numbers as they are. -l writes each line as it comes, for a pipe. -F FILE reads the \
            expression from a file (# starts a comment). -D lists the interfaces to capture on.

            Live capture (-i) needs root or CAP_NET_RAW; it runs until Ctrl-C or -c packets, \
            then prints on stderr how many packets were captured, received by the filter and \
            dropped by the kernel. `-i any` captures on every interface, with Linux cooked v2 \
            headers (LINUX_SLL2) that name each packet's interface, as tcpdump does. \
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
    @OptionGroup var printing: CaptureOutputOptions
    @Option(name: .customShort("F", allowingJoined: true), help: ArgumentHelp("Read the filter expression from this file (# starts a comment to the end of a line), as tcpdump -F.", valueName: "file"))
    var filterFile: String?
    @Flag(name: .customShort("D"), help: "List the interfaces a live capture can use, with their state, as tcpdump -D, and exit.")
    var listInterfaces = false
    @Argument(help: "The filter expression, as one or more words.")
    var expression: [String] = []

    /// The expression: from -F's file, else the words on the command line.
    func filterText() throws -> String {
        guard let filterFile else { return expression.joined(separator: " ") }
        return try FilterFile.read(filterFile)
    }
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
        if listInterfaces {
            #if os(Linux)
            print(InterfaceListing.current().map(\.description).joined(separator: "\n"))
            return
            #else
            throw CommandError("capture: -D needs Linux")
            #endif
        }
        if filterFile != nil, !expression.isEmpty {
            FileHandle.standardError.write(Data("warning: -F gives the filter, so the expression on the command line is ignored, as tcpdump does\n".utf8))
        }
        if let readFile {
            try read(readFile)
        } else {
            try capture(on: try interface.map(Self.interfaceNamed) ?? defaultInterface())
        }
    }

    /// The interface -i names: a number that is no interface's name is a place in the -D
    /// list, as in tcpdump.
    static func interfaceNamed(_ name: String) throws -> String {
        #if os(Linux)
        guard let number = Int(name), if_nametoindex(name) == 0 else { return name }
        guard let listed = InterfaceListing.current().first(where: { $0.number == number }) else {
            throw CommandError("capture: there is no interface number \(name) (capture -D lists them)")
        }
        return listed.name
        #else
        return name
        #endif
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
        let text = try filterText()
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
        // As libpcap: a snapshot length of 0 or past the link type's largest means the largest.
        let fileSnapshotLength = firstInterface.map { min(Int($0.snapshotLength) == 0 ? Int.max : Int($0.snapshotLength), $0.linkType.maximumCapturedLength) }
        if dumpLevel > 0 {
            if let program = try compileFilter(firstLinkType, snapshotLength: fileSnapshotLength, fileByteOrder: byteOrder) { try dump(program) }
            return
        }
        // The expression is checked before any packet is read, so that a mistake is
        // reported even for a file with no packets, as tcpdump does.
        var filters: [LinkType: ClassicInterpreter?] = [:]
        filters[firstLinkType] = try compileFilter(firstLinkType, snapshotLength: fileSnapshotLength, fileByteOrder: byteOrder).map(ClassicInterpreter.init)
        FileHandle.standardError.write(Data("reading from file \(path), link-type \(firstLinkType.pcapDescription), snapshot length \(fileSnapshotLength ?? 262_144)\n".utf8))
        if reader.interfaces.contains(where: { $0.linkType == .linuxSLL2 }) {
            // As tcpdump says: the names are this machine's, not necessarily the capturing one's.
            FileHandle.standardError.write(Data("Warning: interface names might be incorrect\n".utf8))
        }
        // A pcap file is copied as libpcap copies it: header fields and record times as they are.
        let output = try PacketOutput(timestampLevel: timestampLevel, json: json, writeFile: writeFile, linkType: firstLinkType,
                                      snapshotLength: firstInterface?.snapshotLength ?? 262_144, options: printing, copying: reader.pcapHeader)
        let limit = count ?? Int.max
        var matched = 0
        var failure: Error?
        // libpcap cuts a pcap record longer than the file's snapshot length before filtering.
        let cut = reader.pcapHeader.map { Int($0.effectiveSnapshotLength) } ?? Int.max
        forEachRecord(&reader) { record, whole in
            if failure != nil || matched >= limit { return }
            let data = whole.count > cut ? UnsafeRawBufferPointer(rebasing: whole.prefix(cut)) : whole
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
                try output.emit(data: data, timestamp: record.timestamp, originalLength: record.originalLength, linkType: record.linkType, pcapTime: record.pcapTime)
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
/// as the packets come (and lines too with --print), or only their count (--count).
final class PacketOutput {
    var timestamps: TimestampStyle
    let json: Bool
    let linkType: LinkType
    let options: CaptureOutputOptions
    var printer = PacketPrinter()
    var file: CaptureFileWriter?
    var text = ""
    /// Packets emitted so far: -# numbers them, --count prints how many.
    var emitted = 0

    init(timestampLevel: Int, json: Bool, writeFile: String?, linkType: LinkType, snapshotLength: UInt32, options: CaptureOutputOptions,
         copying pcapHeader: PcapFileHeader? = nil) throws {
        timestamps = TimestampStyle(tCount: timestampLevel, nanoseconds: options.nanosecondTimestamps)
        self.json = json
        self.linkType = linkType
        self.options = options
        printer.absoluteSequenceNumbers = options.absoluteSequenceNumbers
        printer.linkHeaders = options.linkHeaders
        printer.quick = options.quick
        printer.verbosity = options.verbosity
        #if os(Linux)
        printer.interfaceNames = SystemInterfaceNames.current()
        #endif
        if let writeFile {
            do {
                let precision: TimestampPrecision = options.nanosecondTimestamps ? .nanoseconds : .microseconds
                let writer = pcapHeader.map { CaptureWriter(copying: $0, precision: precision) }
                    ?? CaptureWriter(format: .pcap, linkType: linkType, snapshotLength: snapshotLength, precision: precision)
                file = try CaptureFileWriter(path: writeFile, writer: writer)
            } catch {
                throw CommandError("capture: \(error)")
            }
        }
    }

    func emit(data: UnsafeRawBufferPointer, timestamp: Int64, originalLength: Int, linkType: LinkType, pcapTime: PcapRecordTime? = nil) throws {
        emitted += 1
        if file != nil {
            try save(data: data, timestamp: timestamp, originalLength: originalLength, linkType: linkType, pcapTime: pcapTime)
            guard options.printWhileWriting else { return }
        }
        guard !options.count else { return }
        let bytes = Array(data)
        let summary = PacketDecoder.decode(bytes, originalLength: originalLength, linkType: linkType, verbosity: options.verbosity)
        let line = printer.line(summary, frameLength: originalLength)
        if json {
            text += Self.json(summary, line: line, clock: timestamps.clock(timestamp), timestamp: timestamp, capturedLength: data.count, originalLength: originalLength) + "\n"
        } else {
            if options.number { text += Self.number(emitted) }
            // A record with impossible lengths prints only tcpdump's notice.
            let valid = !summary.hasInvalidRecordHeader
            if valid { text += timestamps.prefix(timestamp) }
            text += line
            if valid, let dump = options.dump { text += dump.text(bytes, linkType: linkType, summary: summary) }
            text += "\n"
        }
        if options.lineBuffered || text.utf8.count > 1 << 16 { flush() }
    }

    /// tcpdump's -# column: the number right-aligned in five places, then two spaces.
    static func number(_ value: Int) -> String {
        let digits = String(value)
        return String(repeating: " ", count: max(0, 5 - digits.count)) + digits + "  "
    }

    func save(data: UnsafeRawBufferPointer, timestamp: Int64, originalLength: Int, linkType: LinkType, pcapTime: PcapRecordTime?) throws {
        guard linkType == self.linkType else {
            throw CommandError("capture: -w writes one link type, \(self.linkType); this packet is \(linkType)")
        }
        do {
            if let pcapTime, file?.format == .pcap {
                try file?.write(data: data, pcapTime: pcapTime, originalLength: originalLength)
            } else {
                try file?.write(data: data, timestamp: timestamp, originalLength: originalLength)
            }
            if options.packetBuffered { try file?.flush() }
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
        if options.count { text += emitted == 1 ? "1 packet\n" : "\(emitted) packets\n" }
        flush()
        do {
            try file.take()?.close()
        } catch {
            throw CommandError("capture: \(error)")
        }
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

    static func json(_ summary: PacketSummary, line: String, clock: String, timestamp: Int64, capturedLength: Int, originalLength: Int) -> String {
        let packet = JSONPacket(
            timestamp: clock, timestampNanoseconds: timestamp, capturedLength: capturedLength,
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
        FileHandle.standardError.write(Data("listening on \(interface), link-type \(linkType.pcapDescription), snapshot length \(snapshot) bytes\n".utf8))
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
        let settings = (timestampLevel: timestampLevel, json: json, writeFile: writeFile, snapshotLength: UInt32(snapshot), printing: printing)
        Task {
            do {
                let output = try PacketOutput(timestampLevel: settings.timestampLevel, json: settings.json, writeFile: settings.writeFile, linkType: linkType, snapshotLength: settings.snapshotLength, options: settings.printing)
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
        // "1 packet", as tcpdump counts.
        func packets(_ count: some BinaryInteger) -> String { count == 1 ? "1 packet" : "\(count) packets" }
        FileHandle.standardError.write(Data("""
            \(packets(outcome.captured)) captured
            \(packets(statistics.received)) received by filter
            \(packets(statistics.droppedByKernel)) dropped by kernel\n
            """.utf8))
        if statistics.droppedByReader > 0 {
            FileHandle.standardError.write(Data("\(packets(statistics.droppedByReader)) dropped because the output fell behind\n".utf8))
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
