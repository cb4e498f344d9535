import ClassicBPF
import Foundation
import PacketCapture
import PacketFilter

/// The pcap filter language against libpcap in the same process: compiling expressions
/// (pcap_compile), filtering the Ethernet packets of the shared corpus held in memory
/// (bpf_filter on libpcap's program, our interpreter on ours), and reading a large capture
/// file with a filter and writing the matches (against `tcpdump -r FILE -w /dev/null EXPR`).
enum FilterBenchmark {
    static let expressions = [
        "tcp port 80",
        "host 10.0.0.1 and (port 80 or port 443)",
        "tcp[tcpflags] & (tcp-syn|tcp-ack) == tcp-syn",
        "udp port 53 or icmp or icmp6",
        "vlan 10 and ip6 net 2001:db8::/32",
        "not (tcp port 22 or udp port 53) and greater 100",
    ]
    /// Compiled only: libpcap's program for what follows `geneve` reads scratch words it
    /// did not write where `geneve` fails, so its filtering figures would mean little.
    static let compileOnly = ["geneve and tcp port 80"]

    static func run() throws {
        print("suite filter: pcap filter expressions, ours and libpcap's (release build)")
        let libpcap = Libpcap.shared
        if libpcap == nil { print("(libpcap is not installed: no peer figures)") }
        try compileTimes(libpcap)
        let packets = corpusPackets()
        guard !packets.isEmpty else {
            print("(no Ethernet packets in ../shared/pcaps/tcpdump or $SWIFTBPF_SHARED: no filtering figures)")
            return
        }
        try filterTimes(libpcap, packets)
        try fileTimes(packets)
    }

    static func compileTimes(_ libpcap: Libpcap?) throws {
        print("\ncompile, ns per expression (optimized); instructions in parentheses")
        print(pad("expression", 50, left: true) + pad("swiftbpf", 16) + pad("libpcap", 16) + pad("ours/libpcap", 14))
        let handle = libpcap?.deadHandle()
        defer { if let libpcap, let handle { libpcap.close(handle) } }
        let program = UnsafeMutableRawPointer.allocate(byteCount: 16, alignment: 8)
        defer { program.deallocate() }
        for expression in expressions + compileOnly {
            let ours = try PacketFilter.compile(expression).instructions.count
            // Compiled once above: the timed calls cannot fail.
            let compileOurs = { _ = try? PacketFilter.compile(expression) }
            guard let libpcap, let count = libpcap.compile(handle, expression, into: program) else {
                print(pad(expression, 50, left: true) + pad("\(format(measure(compileOurs), decimals: 0)) (\(ours))", 16))
                continue
            }
            libpcap.freeCode(program)
            // Timed in turns, as the filtering below (see `measureAgainstPeer`).
            let times = measureAgainstPeer(compileOurs, peer: {
                _ = libpcap.compile(handle, expression, into: program)
                libpcap.freeCode(program)
            })
            print(pad(expression, 50, left: true) + pad("\(format(times.ours, decimals: 0)) (\(ours))", 16)
                  + pad("\(format(times.peer, decimals: 0)) (\(count))", 16) + pad(format(times.ours / times.peer, decimals: 2), 14))
        }
        if let libpcap { randomCompileTimes(libpcap, handle, program) }
    }

    static let randomCount = 200

    /// The random mixes, each timed in turns with libpcap (fewer rounds: some take
    /// milliseconds): the sums, how many compile faster here, and the slowest relative to libpcap.
    static func randomCompileTimes(_ libpcap: Libpcap, _ handle: OpaquePointer?, _ program: UnsafeMutableRawPointer) {
        var total = (ours: 0.0, peer: 0.0), faster = 0, compared = 0
        var worst = (ratio: 0.0, expression: "")
        for expression in RandomFilterExpressions.make(randomCount, seed: 801) {
            // Compared where both compile: libpcap refuses some as matching no packet.
            guard (try? PacketFilter.compile(expression)) != nil, libpcap.compile(handle, expression, into: program) != nil else { continue }
            libpcap.freeCode(program)
            let times = measureAgainstPeer({ _ = try? PacketFilter.compile(expression) }, peer: {
                _ = libpcap.compile(handle, expression, into: program)
                libpcap.freeCode(program)
            }, rounds: 5)
            total.ours += times.ours
            total.peer += times.peer
            compared += 1
            if times.ours <= times.peer { faster += 1 }
            if times.ours / times.peer > worst.ratio { worst = (times.ours / times.peer, expression) }
        }
        guard compared > 0 else { return }
        print(pad("\(compared) random mixes of 3-6 primitives, sum", 50, left: true) + pad(format(total.ours, decimals: 0), 16)
              + pad(format(total.peer, decimals: 0), 16) + pad(format(total.ours / total.peer, decimals: 2), 14))
        print("  ours as fast or faster on \(faster) of \(compared); slowest relative to libpcap: \(format(worst.ratio, decimals: 1))x, '\(worst.expression)'")
    }

    static func filterTimes(_ libpcap: Libpcap?, _ packets: [[UInt8]]) throws {
        print("\nfiltering \(packets.count) Ethernet packets of the corpus in memory, ns per packet")
        print(pad("expression", 50, left: true) + pad("kept", 7) + pad("swiftbpf", 10) + pad("libpcap", 10) + pad("ours/libpcap", 14))
        let frames = ClassicBPFBenchmark.buffers(packets)
        defer { for frame in frames { frame.deallocate() } }
        let handle = libpcap?.deadHandle()
        defer { if let libpcap, let handle { libpcap.close(handle) } }
        let program = UnsafeMutableRawPointer.allocate(byteCount: 16, alignment: 8)
        defer { program.deallocate() }
        for expression in expressions {
            let interpreter = ClassicInterpreter(program: try PacketFilter.compile(expression))
            var kept = 0
            for frame in frames where interpreter.run(packet: UnsafeRawBufferPointer(frame)) != 0 { kept += 1 }
            var sink: UInt64 = 0
            let runOurs = {
                frames.withUnsafeBufferPointer { frames in
                    for frame in frames { sink &+= UInt64(interpreter.run(packet: UnsafeRawBufferPointer(frame))) }
                }
            }
            guard let libpcap, libpcap.compile(handle, expression, into: program) != nil else {
                let ours = measure(runOurs) / Double(frames.count)
                print(pad(expression, 50, left: true) + pad(String(kept), 7) + pad(format(ours, decimals: 1), 10))
                continue
            }
            defer { libpcap.freeCode(program) }
            let instructions = program.load(fromByteOffset: 8, as: UnsafeRawPointer?.self)
            var theirsKept = 0
            for frame in frames {
                let bytes = UnsafePointer(frame.baseAddress?.assumingMemoryBound(to: UInt8.self))
                if libpcap.filter(instructions, bytes, UInt32(frame.count), UInt32(frame.count)) != 0 { theirsKept += 1 }
            }
            // Timed in turns (see `measureAgainstPeer`).
            let times = measureAgainstPeer(runOurs, peer: { sink &+= UInt64(libpcap.filterAll(instructions, frames)) }, rounds: 40)
            let ours = times.ours / Double(frames.count), theirs = times.peer / Double(frames.count)
            var line = pad(expression, 50, left: true) + pad(String(kept), 7) + pad(format(ours, decimals: 1), 10)
            line += pad(format(theirs, decimals: 1), 10) + pad(format(ours / theirs, decimals: 2), 14)
            if theirsKept != kept { line += "  (libpcap keeps \(theirsKept)!)" }
            print(line)
            if sink == 0x5eed { print("") }  // keeps the results alive
        }
    }

    /// A pcap of about a million packets cycled from the corpus, read, filtered and the
    /// matches written as pcap: in process by PacketCapture and ClassicBPF, and by tcpdump.
    static func fileTimes(_ packets: [[UInt8]]) throws {
        let count = 1_000_000
        var writer = CaptureWriter(format: .pcap, linkType: .ethernet)
        for index in 0..<count {
            let packet = packets[index % packets.count]
            try packet.withUnsafeBytes { bytes in
                try writer.write(data: bytes, timestamp: 1_700_000_000_000_000_000 + Int64(index) * 1_000, originalLength: packet.count)
            }
        }
        let path = NSTemporaryDirectory() + "/swiftbpf-bench-filter-\(ProcessInfo.processInfo.processIdentifier).pcap"
        guard FileManager.default.createFile(atPath: path, contents: Data(writer.takeBytes())) else {
            print("(cannot write \(path): no file figures)")
            return
        }
        defer { try? FileManager.default.removeItem(atPath: path) }
        let megabytes = Double((try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? 0) / 1e6
        let tcpdump = ["/usr/bin/tcpdump", "/usr/sbin/tcpdump"].first { FileManager.default.isExecutableFile(atPath: $0) }
        print("\nreading a \(format(megabytes, decimals: 0)) MB pcap of \(count) packets, filtering, writing matches; ms, best of 3")
        print(pad("expression", 50, left: true) + pad("kept", 8) + pad("swiftbpf", 10) + pad("Mpkt/s", 8) + pad("tcpdump -r -w", 15)
              + pad("Mpkt/s", 8) + pad("ours/tcpdump", 14))
        for expression in expressions.prefix(3) {
            let interpreter = ClassicInterpreter(program: try PacketFilter.compile(expression))
            var kept = 0
            var best = Double.infinity
            for _ in 0..<3 {
                let start = ContinuousClock.now
                kept = try filterFile(path, interpreter)
                best = min(best, nanoseconds(ContinuousClock.now - start) / 1e6)
            }
            var line = pad(expression, 50, left: true) + pad(String(kept), 8) + pad(format(best, decimals: 0), 10)
                + pad(format(Double(count) / best / 1e3, decimals: 1), 8)
            if let tcpdump {
                let peer = (spawnTime(tcpdump, ["-r", path, "-w", "/dev/null", expression], rounds: 3) ?? .nan) / 1e6
                line += pad(format(peer, decimals: 0), 15) + pad(format(Double(count) / peer / 1e3, decimals: 1), 8)
                    + pad(format(best / peer, decimals: 2), 14)
            }
            print(line)
        }
    }

    /// Streams the file through `CaptureFileReader`, keeps the packets `interpreter`
    /// accepts and writes them as pcap to /dev/null through `CaptureFileWriter`, as tcpdump
    /// -r -w does; how many were kept.
    static func filterFile(_ path: String, _ interpreter: ClassicInterpreter) throws -> Int {
        var reader = try CaptureFileReader(path: path)
        var writer = try CaptureFileWriter(path: "/dev/null", format: .pcap, linkType: .ethernet)
        var failure: CaptureWriteError?
        reader.forEachRecord { record, bytes in
            guard failure == nil, interpreter.run(packet: bytes, wireLength: UInt32(truncatingIfNeeded: record.originalLength)) != 0 else { return }
            do throws(CaptureWriteError) {
                try writer.write(data: bytes, timestamp: record.timestamp, originalLength: record.originalLength)
            } catch {
                failure = error
            }
        }
        if let failure { throw failure }
        if let error = reader.error { throw error }
        let kept = writer.packetCount
        try writer.close()
        return kept
    }

    /// Every Ethernet packet of the shared capture corpus.
    static func corpusPackets() -> [[UInt8]] {
        guard let largest = CaptureBenchmark.largestSharedCapture() else { return [] }
        let folder = (largest as NSString).deletingLastPathComponent
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: folder) else { return [] }
        var packets: [[UInt8]] = []
        for name in names.sorted() {
            guard let data = FileManager.default.contents(atPath: folder + "/" + name),
                  var reader = try? CaptureReader([UInt8](data)) else { continue }
            while let packet = reader.next() {
                if packet.linkType == .ethernet { packets.append(packet.data) }
            }
        }
        return packets
    }
}
