import ArgumentParser
import BPFInstructions
import ClassicBPF
import Foundation
import PacketCapture
import PacketFilter

extension CaptureDirection: ExpressibleByArgument {}

struct CaptureCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "capture",
        abstract: "Read packets from a capture file or a live interface, filter them and print or save them, as tcpdump does.",
        discussion: """
            The expression is a pcap filter (see `swiftbpf filter --help`), given as words the \
            way tcpdump takes it: `swiftbpf capture -r web.pcap tcp port 80` or quoted as one \
            argument. Packets read from a file are filtered by SwiftBPF's classic BPF \
            interpreter; on a live interface the filter runs in the kernel (SO_ATTACH_FILTER).

            Each matching packet prints as tcpdump prints it (one line, more with -v), after a \
            timestamp in local time (HH:MM:SS.microseconds; TZ chooses the zone, -t leaves it \
            out); Linux cooked v2 packets name this machine's interface of their index, as \
            tcpdump does. --json prints one JSON object \
            a packet instead, with the decoded layers. -w saves the matches as a pcap file \
            (microsecond timestamps, as tcpdump writes) instead of printing them; a pcap file \
            read with -r keeps its link-type field and record times exactly, as with tcpdump. \
            Without -n, as tcpdump, addresses print by host name where a reverse lookup \
            (hosts file, then DNS) finds one, TCP and UDP ports by service (/etc/services), \
            an IP protocol tcpdump does not dissect by its IANA keyword and Ethernet addresses by \
            /etc/ethers or with their maker (`(oui Cisco)`); each is looked up once.

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
    @Option(name: .customShort("V", allowingJoined: true), help: ArgumentHelp("Read the capture files named in this file, one a line (- for standard input), in turn as one stream (as tcpdump -V).", valueName: "file"))
    var fileList: String?
    @Option(name: .customShort("w", allowingJoined: true), help: ArgumentHelp("Write the matching packets to this pcap file (- for standard output) instead of printing them.", valueName: "file"))
    var writeFile: String?
    @Option(name: .customShort("C", allowingJoined: true), help: ArgumentHelp("With -w, start a new file before a packet once the current one is past this many millions of bytes: FILE, FILE1, FILE2, … (as tcpdump -C).", valueName: "file_size"))
    var fileSize: Int?
    @Option(name: .customShort("G", allowingJoined: true), help: ArgumentHelp("With -w, start a new file before a packet once the current one is this many seconds old; the -w name may hold strftime(3) conversions, filled in with the file's start (as tcpdump -G).", valueName: "rotate_seconds"))
    var rotateSeconds: Int?
    @Option(name: .customShort("z", allowingJoined: true), help: ArgumentHelp("With -C or -G, run this program on each file they close, e.g. gzip (as tcpdump -z).", valueName: "postrotate-command"))
    var postRotateCommand: String?
    @Option(name: .customShort("W", allowingJoined: true), help: ArgumentHelp("With -C, keep at most this many files, writing over the first again after the last: FILE0, FILE1, …; with -G alone, stop after this many files (as tcpdump -W).", valueName: "filecount"))
    var fileCount: Int?
    @Option(name: .customShort("c", allowingJoined: true), help: ArgumentHelp("Stop after this many matching packets.", valueName: "count"))
    var count: Int?
    @Option(name: .customShort("s", allowingJoined: true), help: ArgumentHelp("Keep at most this many bytes of each live packet (0: 262144, the default).", valueName: "snaplen"))
    var snapshotLength: Int = 262_144
    @Flag(name: .customShort("t"), help: "Leave out the timestamp; -tt seconds since 1970, -ttt the time since the previous packet, -tttt the date too, -ttttt the time since the first packet (as tcpdump).")
    var timestampLevel: Int
    @Flag(name: .customShort("p"), help: "Do not put the interface into promiscuous mode.")
    var noPromiscuous = false
    @Option(name: [.customShort("Q", allowingJoined: true), .customLong("direction")], help: ArgumentHelp("Capture only the packets received (in), sent (out) or both (inout, the default), as tcpdump -Q.", valueName: "in|out|inout"))
    var direction: CaptureDirection = .both
    @Option(name: [.customShort("B", allowingJoined: true), .customLong("buffer-size")], help: ArgumentHelp("The kernel's ring for a live capture, in KiB (default 8192).", valueName: "buffer_size"))
    var bufferSize: Int?
    @Flag(name: .customLong("immediate-mode"), help: "Hand each live packet over as it arrives rather than in blocks; the default when printing to a terminal, as in tcpdump.")
    var immediateMode = false
    @Flag(name: [.customShort("O"), .customLong("no-optimize")], help: "Do not optimize the compiled filter, as tcpdump -O (the unoptimized program is ours, not always libpcap's).")
    var noOptimize = false
    @Flag(name: .customShort("d"), help: "Print the compiled filter and exit: -d as tcpdump -d, -dd as a C array, -ddd as decimal numbers.")
    var dumpLevel: Int
    @Flag(help: "Print one JSON object a packet.")
    var json = false
    @OptionGroup var printing: CaptureOutputOptions
    @Option(name: .customShort("F", allowingJoined: true), help: ArgumentHelp("Read the filter expression from this file (# starts a comment to the end of a line), as tcpdump -F.", valueName: "file"))
    var filterFile: String?
    @Option(name: .customShort("y", allowingJoined: true), help: ArgumentHelp("Capture with this link type, one -L lists (e.g. LINUX_SLL on any, for tools that read only cooked v1).", valueName: "datalinktype"))
    var linkTypeName: String?
    @Flag(name: .customShort("L"), help: "List the link types the interface can capture with, as tcpdump -L, and exit.")
    var listLinkTypes = false
    @Flag(name: .customShort("D"), help: "List the interfaces a live capture can use, with their state, as tcpdump -D, and exit.")
    var listInterfaces = false
    @Argument(help: "The filter expression, as one or more words.")
    var expression: [String] = []

    /// The expression: from -F's file, else the words on the command line.
    func filterText() throws -> String {
        guard let filterFile else { return expression.joined(separator: " ") }
        return try FilterFile.read(filterFile)
    }
    /// -B's largest size in KiB: tcpdump takes what fits an int in bytes.
    static let largestBuffer = Int(Int32.max) / 1024
    /// The short options that take a value.
    static let valueOptions: Set<Character> = ["i", "r", "w", "C", "G", "z", "W", "V", "c", "s", "Q", "B", "y", "F"]

    /// The arguments with each cluster of short flags that ends in an option and its value
    /// split before that option (`-Xs0` → `-X -s0`, `-nnc1` → `-nn -c1`, `-ni lo` → `-n -i lo`),
    /// which tcpdump takes and the argument parser does not.
    /// A negative number after an option (`-c -5`) is joined to it, so that the option's
    /// own check refuses it rather than the parser taking it for an unknown option.
    static func splittingClusters(_ arguments: [String]) -> [String] {
        var result: [String] = []
        for (index, argument) in arguments.enumerated() {
            if argument == "--" {
                result += arguments[index...]
                break
            }
            if argument.hasPrefix("-"), argument.dropFirst().allSatisfy(\.isNumber), argument.count > 1,
               let option = result.last, option.count == 2, option.hasPrefix("-"), let letter = option.last, valueOptions.contains(letter) {
                result[result.count - 1] += argument
                continue
            }
            let letters = Array(argument.dropFirst())
            guard argument.hasPrefix("-"), !argument.hasPrefix("--"), letters.count > 1,
                  let split = letters.indices.dropFirst().first(where: { valueOptions.contains(letters[$0]) }),
                  letters[..<split].allSatisfy({ $0.isLetter && !valueOptions.contains($0) }) else {
                result.append(argument)
                continue
            }
            result += ["-" + String(letters[..<split]), "-" + String(letters[split...])]
        }
        return result
    }

    /// -y's link type.
    var requestedLinkType: LinkType? { linkTypeName.flatMap(LinkType.init(pcapName:)) }
    /// The files -w asks for, and how -C, -G, -W and -z rotate them.
    var savefile: SavefileTarget? {
        writeFile.map {
            SavefileTarget(name: $0, sizeLimit: fileSize.map { $0 * 1_000_000 }, secondsPerFile: rotateSeconds == 0 ? nil : rotateSeconds,
                           fileLimit: fileCount, postRotateCommand: postRotateCommand)
        }
    }
    /// The snapshot length to use: -s 0 means the largest, as in tcpdump.
    var snapshot: Int { snapshotLength == 0 ? 262_144 : snapshotLength }

    func validate() throws {
        guard [interface != nil, readFile != nil, fileList != nil].filter({ $0 }).count <= 1 else {
            throw ValidationError("give one of -i INTERFACE, -r FILE and -V LIST")
        }
        if let count, count < 1 { throw ValidationError("-c must be at least 1") }
        if let linkTypeName, LinkType(pcapName: linkTypeName) == nil { throw ValidationError("-y: \(linkTypeName) is no link type libpcap names (-L lists an interface's)") }
        if let fileSize, !(1...Int.max / 1_000_000).contains(fileSize) { throw ValidationError("-C must be a size in millions of bytes, from 1") }
        if let bufferSize, !(1...Self.largestBuffer).contains(bufferSize) { throw ValidationError("-B must be a size in KiB, from 1 to \(Self.largestBuffer) (2 GiB, as tcpdump takes)") }
        if let fileCount, fileCount < 1 { throw ValidationError("-W must be at least 1") }
        if let rotateSeconds, rotateSeconds < 0 { throw ValidationError("-G must be a number of seconds, from 1 (0: never)") }
        let rotating = fileSize != nil || (rotateSeconds ?? 0) > 0
        if fileCount != nil, !rotating { throw ValidationError("-W limits the files -C or -G starts; give one of them too") }
        if postRotateCommand != nil, !rotating { throw ValidationError("-z runs on the files -C or -G closes; give one of them too") }
        if rotating, writeFile == nil || writeFile == "-" { throw ValidationError("-C and -G start new files, so -w must name a file") }
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
        if listLinkTypes {
            try printLinkTypes(of: try interface.map(Self.interfaceNamed) ?? defaultInterface())
            return
        }
        if filterFile != nil, !expression.isEmpty {
            printError("warning: -F gives the filter, so the expression on the command line is ignored, as tcpdump does")
        }
        if let files = try readFile.map({ [$0] }) ?? fileList.map(Self.fileNames) {
            if direction != .both {
                printError("warning: -Q applies to live captures; every packet of the file is read, as tcpdump does")
            }
            if linkTypeName != nil {
                printError("warning: -y applies to live captures; a file's packets keep their link type, as tcpdump does")
            }
            try read(files)
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
            // It runs here, not in the kernel: no 4096-instruction limit, as libpcap's offline filters.
            try PacketFilter.compile(text, linkType: filterLinkType, optimize: !noOptimize, snapshotLength: snapshotLength,
                                     fileByteOrder: fileByteOrder, resolver: SystemNameResolver(), maximumLength: FilterCommand.userSpaceLength)
        }
    }

    /// The filter the kernel runs on a live socket of `linkType`.
    func compileSocketFilter(_ linkType: LinkType) throws -> ClassicProgram? {
        let snapshotLength = UInt32(snapshot)
        return try compile(linkType) { text, filterLinkType throws(FilterError) in
            try PacketFilter.compileForSocket(text, linkType: filterLinkType, optimize: !noOptimize, snapshotLength: snapshotLength, resolver: SystemNameResolver())
        }
    }

    /// `body`'s filter for the expression; nil when there is none; errors with a caret under the culprit.
    func compile<Filter>(_ linkType: LinkType, _ body: (String, FilterLinkType) throws(FilterError) -> Filter) throws -> Filter? {
        let text = try filterText()
        guard !text.trimmingCharacters(in: .whitespaces).isEmpty || dumpLevel > 0 else { return nil }
        guard let filterLinkType = FilterLinkType(linkTypeValue: linkType.rawValue) else {
            throw CommandError("capture: filters on link type \(linkType) are not supported (ethernet, raw, sll, sll2, null, ipv4 and ipv6 are)")
        }
        do {
            return try body(text, filterLinkType)
        } catch {
            let caret = String(repeating: " ", count: error.offset) + String(repeating: "^", count: max(1, error.length))
            throw CommandError("capture: \(error)\n  \(text)\n  \(caret)")
        }
    }

    func dump(_ program: ClassicProgram) throws {
        try ClassicProgramOutput.print(program, dumpLevel: dumpLevel, command: "capture")
    }

    // MARK: Reading a file

    /// The capture files a -V list names: one a line, blank lines left out.
    static func fileNames(_ list: String) throws -> [String] {
        let text: String
        if list == "-" {
            text = String(decoding: FileHandle.standardInput.readDataToEndOfFile(), as: UTF8.self)
        } else {
            guard let data = FileManager.default.contents(atPath: list) else {
                throw CommandError("capture: cannot read the file list \(list)")
            }
            text = String(decoding: data, as: UTF8.self)
        }
        let names = text.split(whereSeparator: \.isNewline).map(String.init).filter { !$0.allSatisfy(\.isWhitespace) }
        guard !names.isEmpty else { throw CommandError("capture: \(list) names no file") }
        return names
    }

    /// Reads the files in turn as one stream: -c, -w and --count span them all. A file of
    /// another link type is filtered and printed as its own, as tcpdump -V does, but cannot
    /// go into the same -w file.
    func read(_ paths: [String]) throws {
        var output: PacketOutput?
        var matched = 0
        var failure: Error?
        let interruption = ReadInterruption()
        interruption.start()
        for (index, path) in paths.enumerated() {
            do {
                guard try read(path, into: &output, matched: &matched, interruption) else { break }
            } catch let damage as DamagedFile where index < paths.count - 1 {
                // As tcpdump -V: said, and the next file is read (the exit status is the last file's).
                printError("\(damage)")
            } catch {
                failure = error
                break
            }
        }
        try interruption.finish(output)
        if let failure { throw failure }
    }

    /// Reads one file into `output` (made for the first file); false when no more packets
    /// are wanted.
    func read(_ path: String, into shared: inout PacketOutput?, matched: inout Int, _ interruption: ReadInterruption) throws -> Bool {
        var reader: CaptureFileReader
        do {
            reader = try CaptureFileReader(path: path)
        } catch {
            throw CommandError(error.kind == .unreadable ? "capture: \(error.message)" : "capture: \(path): \(error)")
        }
        let firstInterface = reader.firstInterface
        // As libpcap: a pcapng file's packets need an interface, whose link type is named below.
        guard firstInterface != nil || reader.format == .pcap else {
            throw CommandError("capture: \(path): no Interface Description Block comes before the first packet or the end of the file")
        }
        let firstLinkType = firstInterface?.linkType ?? .ethernet
        let byteOrder = reader.pcapHeader?.byteOrder ?? reader.sections.first?.byteOrder ?? .little
        // As libpcap: a snapshot length of 0 (or past 2^31, negative in its int) means the link
        // type's largest; any other is kept (a pcap header's was made libpcap's when read).
        func snapshotLength(_ interface: CaptureInterface) -> Int {
            let length = Int32(bitPattern: interface.snapshotLength)
            return length <= 0 ? interface.linkType.maximumCapturedLength : Int(length)
        }
        let fileSnapshotLength = firstInterface.map(snapshotLength)
        if dumpLevel > 0 {
            if let program = try compileFilter(firstLinkType, snapshotLength: fileSnapshotLength, fileByteOrder: byteOrder) { try dump(program) }
            return false
        }
        // The expression is checked before any packet is read, so that a mistake is
        // reported even for a file with no packets, as tcpdump does.
        var filters: [LinkType: ClassicInterpreter?] = [:]
        var unfiltered: Set<LinkType> = []
        filters[firstLinkType] = try compileFilter(firstLinkType, snapshotLength: fileSnapshotLength, fileByteOrder: byteOrder).map(ClassicInterpreter.init)
        printError("reading from file \(path), link-type \(firstLinkType.pcapDescription), snapshot length \(fileSnapshotLength ?? 262_144)")
        if reader.interfaces.contains(where: { $0.linkType == .linuxSLL2 }) {
            // As tcpdump says: the names are this machine's, not necessarily the capturing one's.
            printError("Warning: interface names might be incorrect")
        }
        if let shared, shared.file != nil, firstLinkType != shared.linkType {
            throw CommandError("capture: \(path): link type \(firstLinkType.pcapDescription) differs from the first file's, \(shared.linkType.pcapDescription); a -w file holds one")
        }
        // A pcap file is copied as libpcap copies it: header fields and record times as they are.
        // A pcapng file's -w header holds the packets of every interface: the largest length.
        let writtenSnapshotLength = reader.interfacesBeforeFirstPacket.map(snapshotLength).max() ?? 262_144
        let output = try shared ?? PacketOutput(timestampLevel: timestampLevel, json: json, savefile: savefile, linkType: firstLinkType,
                                                snapshotLength: UInt32(clamping: writtenSnapshotLength), options: printing, copying: reader.pcapHeader)
        shared = output
        interruption.track(output)
        let limit = count ?? Int.max
        var failure: Error?
        var counted = matched
        // libpcap cuts a pcap record longer than the file's snapshot length before filtering.
        let cut = reader.pcapHeader.map { Int($0.effectiveSnapshotLength) } ?? Int.max
        forEachRecord(&reader) { record, whole in
            if failure != nil || counted >= limit || output.finished { return }
            let data = whole.count > cut ? UnsafeRawBufferPointer(rebasing: whole.prefix(cut)) : whole
            let filter: ClassicInterpreter?
            if let known = filters[record.linkType] {
                filter = known
            } else if unfiltered.contains(record.linkType) {
                return
            } else {
                do {
                    filter = try compileFilter(record.linkType, snapshotLength: fileSnapshotLength, fileByteOrder: byteOrder)
                        .map(ClassicInterpreter.init)
                } catch {
                    // The expression was good for the file's first link type: a later interface's
                    // packets it has no meaning for are left out, said once, and the reading goes on.
                    let reason = "\(error)".split(separator: "\n").first.map { $0.hasPrefix("capture: ") ? $0.dropFirst(9) : $0 } ?? ""
                    printError("warning: \(path): packets of link type \(record.linkType.pcapDescription) are left out: \(reason)")
                    unfiltered.insert(record.linkType)
                    return
                }
                filters[record.linkType] = filter
            }
            if let filter, filter.run(packet: data, wireLength: UInt32(truncatingIfNeeded: record.originalLength)) == 0 { return }
            counted += 1
            do {
                try interruption.emit {
                    try output.emit(data: data, timestamp: record.timestamp, originalLength: record.originalLength, linkType: record.linkType, pcapTime: record.pcapTime)
                }
            } catch {
                failure = error
            }
        }
        matched = counted
        Self.report(reader.warnings, in: path, cut: cut != Int.max)
        if let failure { throw failure }
        if let error = reader.error, matched < limit {
            throw DamagedFile(description: "capture: \(path) is damaged after packet \(reader.packetCount): \(error)")
        }
        return matched < limit && !output.finished
    }

    /// A file read up to a damaged record; the packets before it were printed or saved.
    struct DamagedFile: Error, CustomStringConvertible {
        var description: String
    }

    /// What was odd in the file but did not stop the reading, on standard error: the first
    /// of each kind, and how many more there were. `cut`: records past the snapshot length
    /// were cut to it (pcap, as libpcap does), not kept whole (pcapng).
    static func report(_ warnings: [CaptureWarning], in path: String, cut: Bool) {
        var seen: [CaptureWarning.Kind: Int] = [:]
        for warning in warnings { seen[warning.kind, default: 0] += 1 }
        for warning in warnings where seen[warning.kind] != nil {
            let more = (seen.removeValue(forKey: warning.kind) ?? 1) - 1
            var tail = more == 0 ? "" : " (and \(more) more like it)"
            if warning.kind == .capturedLengthExceedsSnapshotLength {
                tail += cut ? "; cut to it, as libpcap does" : "; kept whole (libpcap 1.10 stops at such a record)"
            }
            printError("warning: \(path): \(warning)\(tail)")
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
    var file: SavefileSeries?
    var text = ""
    /// Packets emitted so far: -# numbers them, --count prints how many.
    var emitted = 0
    /// Set when -G with -W has written its last file: the capture ends, as tcpdump's does.
    var finished = false
    /// The -w header's snapshot length, while no packet longer than it has been saved (then
    /// said once, and nil).
    private var unpassedSnapshotLength: Int?
    /// Each line goes out as it is printed (-l, or a terminal, as stdio does); else in
    /// blocks of 8 KiB, as tcpdump's output to a file or pipe.
    let lineBuffered: Bool

    /// `interface`: the live capture's, whose network -f keeps names to.
    init(timestampLevel: Int, json: Bool, savefile: SavefileTarget?, linkType: LinkType, snapshotLength: UInt32, options: CaptureOutputOptions,
         copying pcapHeader: PcapFileHeader? = nil, interface: String? = nil) throws {
        timestamps = TimestampStyle(tCount: timestampLevel, nanoseconds: options.nanosecondTimestamps)
        self.json = json
        self.linkType = linkType
        self.options = options
        lineBuffered = options.lineBuffered || isatty(1) == 1
        printer.absoluteSequenceNumbers = options.absoluteSequenceNumbers
        printer.linkHeaders = options.linkHeaders
        printer.quick = options.quick
        printer.verbosity = options.verbosity
        #if os(Linux)
        printer.interfaceNames = SystemInterfaceNames.current()
        // JSON is data: its addresses stay numbers.
        if !options.numeric && !json {
            // As tcpdump -f: a file has no local network, so every address gets its name.
            let localNetwork = options.foreignNumeric ? interface.flatMap(SystemPacketNames.localNetwork) : nil
            printer.names = PrintedNames(SystemPacketNames(), shortHostNames: options.shortHostNames, localNetwork: localNetwork)
        }
        #endif
        if let savefile {
            do {
                let precision: TimestampPrecision = options.nanosecondTimestamps ? .nanoseconds : .microseconds
                var writer = pcapHeader.map { CaptureWriter(copying: $0, precision: precision) }
                    ?? CaptureWriter(format: .pcap, linkType: linkType, snapshotLength: snapshotLength, precision: precision)
                // tcpdump writes such times too (a pcapng file's, past 2106); we say so at the end.
                writer.wrapsSeconds = true
                unpassedSnapshotLength = writer.interfaces.first.map { Int($0.snapshotLength) }.flatMap { $0 > 0 ? $0 : nil }
                file = try SavefileSeries(savefile, header: writer)
            } catch {
                throw CommandError("capture: \(error)")
            }
        }
    }

    func emit(data: UnsafeRawBufferPointer, timestamp: Int64, originalLength: Int, linkType: LinkType, pcapTime: PcapRecordTime? = nil) throws {
        if file != nil {
            try save(data: data, timestamp: timestamp, originalLength: originalLength, linkType: linkType, pcapTime: pcapTime)
            if finished { return }
            emitted += 1
            guard options.printWhileWriting else { return }
        } else {
            emitted += 1
        }
        guard !options.count else { return }
        let bytes = Array(data)
        let summary = PacketDecoder.decode(bytes, originalLength: originalLength, linkType: linkType, verbosity: options.verbosity, names: printer.names,
                                           verifyingChecksums: !options.skipsChecksums)
        let line = printer.line(summary, frameLength: originalLength)
        if json {
            text += Self.json(summary, line: line, clock: timestamps.clock(timestamp), timestamp: timestamp, capturedLength: data.count, originalLength: originalLength) + "\n"
        } else {
            if options.number { text += Self.number(emitted) }
            // A record with impossible lengths prints only tcpdump's notice.
            let valid = !summary.hasInvalidRecordHeader
            if valid { text += timestamps.prefix(timestamp) }
            text += line
            // tcpdump's hex of what it has no dissector for, mostly not with -x, -X or -q.
            let suppressed = options.dump.map { $0.style != .ascii } ?? false || options.quick
            if valid, let offset = summary.rawDataOffset, offset < bytes.count, summary.rawDataAlwaysPrinted || !suppressed {
                text += PacketBytesText.text(bytes[offset...], style: .hexAndASCII)
            }
            if valid, let dump = options.dump { text += dump.text(bytes, linkType: linkType, summary: summary) }
            text += "\n"
        }
        if lineBuffered || text.utf8.count >= 1 << 13 { try flush() }
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
            if try file?.write(data: data, timestamp: timestamp, originalLength: originalLength, pcapTime: pcapTime) == false {
                finished = true
                printError("Maximum file limit reached: \(file?.target.fileLimit ?? 0)")
                return
            }
            if options.packetBuffered { try file?.flush() }
            // An interface described after the header was written may allow longer packets.
            if let limit = unpassedSnapshotLength, data.count > limit {
                unpassedSnapshotLength = nil
                printError("warning: packet \(emitted + 1) has \(data.count) bytes, more than the snapshot length \(limit) in the -w file's header; libpcap cuts it to that when reading")
            }
        } catch {
            throw CommandError(error.kind == .unwritable ? "capture: \(error.message)" : "capture: cannot write \(error)")
        }
    }

    func flush() throws {
        guard !text.isEmpty else { return }
        defer { text = "" }
        try StandardStreams.write(text)
    }

    func finish() throws {
        if options.count { text += emitted == 1 ? "1 packet\n" : "\(emitted) packets\n" }
        try flush()
        do {
            try file?.close()
        } catch {
            throw CommandError("capture: \(error)")
        }
        if let wrapped = file?.wrappedSecondsCount, wrapped > 0 {
            let packets = wrapped == 1 ? "1 packet's time lies" : "\(wrapped) packets' times lie"
            printError("warning: \(packets) outside pcap's seconds (1970 to 2106-02-07 06:28:15); written with the low 32 bits of the seconds, as libpcap writes them")
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
    /// tcpdump -L's list for `interface`, on standard error as tcpdump prints it.
    func printLinkTypes(of interface: String) throws {
        #if os(Linux)
        do {
            let types = try LiveCapture.linkTypes(of: interface).sorted { $0.rawValue < $1.rawValue }
            let lines = ["Data link types for \(interface) (use option -y to set):"] + types.map { "  \($0.pcapDescription)" }
            printError(lines.joined(separator: "\n"))
        } catch {
            throw CommandError("capture: \(interface): \(error)")
        }
        #else
        throw CommandError("capture: -L needs Linux")
        #endif
    }

    /// Live capture until Ctrl-C or -c packets, then tcpdump's three counters on stderr.
    func capture(on interface: String) throws {
        #if os(Linux)
        let linkType: LinkType
        do {
            linkType = try requestedLinkType ?? LiveCapture.linkType(of: interface)
        } catch {
            throw CommandError("capture: \(interface): \(error)")
        }
        let filter = try compileSocketFilter(linkType)
        if dumpLevel > 0 {
            if let filter { try dump(filter) }
            return
        }
        var configuration = LiveCapture.Configuration(
            interface: interface, filter: filter, promiscuous: !noPromiscuous, snapshotLength: snapshot, direction: direction,
            linkType: requestedLinkType)
        if let bufferSize { configuration.setBufferSize(bufferSize * 1024) }
        // A block the kernel holds back is handed over after 1 ms instead of 50.
        if immediateMode || writeFile == nil && isatty(1) == 1 { configuration.blockTimeout = 1 }
        // Made first, so that a -w file that cannot be created stops us before listening;
        // the task below is its only user.
        nonisolated(unsafe) let output = try PacketOutput(timestampLevel: timestampLevel, json: json, savefile: savefile, linkType: linkType,
                                                          snapshotLength: UInt32(snapshot), options: printing, interface: interface)
        let capture: LiveCapture
        do {
            capture = try LiveCapture(configuration)
        } catch {
            throw CommandError("capture: \(interface): \(error)")
        }
        printError("listening on \(interface), link-type \(linkType.pcapDescription), snapshot length \(snapshot) bytes")
        // Ctrl-C, kill and timeout (SIGTERM) and a closed terminal (SIGHUP) all stop the
        // capture the same way, so the counts print and a -w file is complete, as in tcpdump.
        let stops = [SIGINT, SIGTERM, SIGHUP].map { signalNumber in
            signal(signalNumber, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: signalNumber, queue: .global())
            source.setEventHandler {
                // The output stops at the packet it is on, and a write blocked on a full pipe gives up.
                StandardStreams.stopping.store(true, ordering: .relaxed)
                capture.close()
            }
            source.resume()
            return source
        }
        let done = DispatchSemaphore(value: 0)
        let outcome = LiveOutcome()
        let limit = count ?? Int.max
        Task {
            do {
                for try await packet in capture.packets {
                    if StandardStreams.stopping.load(ordering: .relaxed) { break }
                    try packet.data.withUnsafeBytes { data in
                        try output.emit(data: data, timestamp: packet.timestamp, originalLength: packet.originalLength, linkType: packet.linkType)
                    }
                    if output.finished { break }
                    outcome.captured += 1
                    if outcome.captured >= limit { break }
                }
                try output.finish()
            } catch {
                outcome.failure = error
                // What is buffered still goes out, and a -w file is closed whole.
                try? output.finish()
            }
            done.signal()
        }
        done.wait()
        for source in stops { source.cancel() }
        capture.close()
        let statistics = capture.statistics()
        // "1 packet", as tcpdump counts.
        func packets(_ count: some BinaryInteger) -> String { count == 1 ? "1 packet" : "\(count) packets" }
        printError("""
            \(packets(outcome.captured)) captured
            \(packets(statistics.received)) received by filter
            \(packets(statistics.droppedByKernel)) dropped by kernel
            """)
        if let failure = outcome.failure { throw failure as? CommandError ?? CommandError("capture: \(interface): \(failure)") }
        #else
        throw CommandError("capture: live capture needs Linux")
        #endif
    }
}

/// What the capture task reports back to the waiting command.
final class LiveOutcome: @unchecked Sendable {  // written by the task, read after the semaphore
    var captured = 0
    var failure: (any Error)?
}
