import Foundation
import PacketCapture

/// Capture-file reading speed: the largest capture of the shared corpus and a synthetic
/// 100 MB pcap (and the same packets as pcapng), read three ways — records without copying,
/// a zero-copy visit of every packet's bytes, and `Packet`s with their bytes copied out.
/// tcpdump (libpcap) reading the same file to /dev/null is the peer when it is installed;
/// its time is net of process start-up (the same command on a header-only file).
enum CaptureBenchmark {
    static func run() throws {
        print("suite capture: reading pcap and pcapng from memory (release build)")
        var inputs: [(name: String, bytes: [UInt8], path: String?)] = []
        if let largest = largestSharedCapture(), let data = FileManager.default.contents(atPath: largest) {
            inputs.append(((largest as NSString).lastPathComponent, Array(data), largest))
        } else {
            print("(no shared capture corpus at ../shared/pcaps/tcpdump or $SWIFTBPF_SHARED; synthetic files only)")
        }
        let (pcap, pcapng) = try synthetic(packets: 1_000_000)
        inputs.append(("synthetic 1M packets .pcap", pcap, nil))
        inputs.append(("synthetic 1M packets .pcapng", pcapng, nil))

        let emptyPcap = CaptureWriter(format: .pcap, linkType: .ethernet).bytes
        let startup = tcpdumpMilliseconds(emptyPcap, path: nil) ?? 0
        print(pad("file", 30, left: true) + pad("reader", 16, left: true) + pad("packets", 9) + pad("MB", 8)
              + pad("ms/read", 9) + pad("ns/packet", 11) + pad("Mpackets/s", 12) + pad("MB/s", 8) + pad("vs tcpdump", 12))
        for input in inputs {
            let megabytes = Double(input.bytes.count) / 1e6
            let large = input.bytes.count > 10_000_000
            // A file read faster than start-up varies gives no figure worth a ratio.
            let peer = tcpdumpMilliseconds(input.bytes, path: input.path).map { $0 - startup }.flatMap { $0 > startup / 5 ? $0 : nil }
            var count = 0
            var sink = 0
            let modes: [(String, () throws -> Void)] = [
                ("nextRecord()", {
                    var reader = try CaptureReader(input.bytes)
                    while let record = reader.nextRecord() { sink &+= record.capturedLength }
                    count = reader.packetCount
                }),
                ("forEachRecord", {
                    var reader = try CaptureReader(input.bytes)
                    reader.forEachRecord { _, data in sink &+= data.count &+ Int(data.first ?? 0) }
                    count = reader.packetCount
                }),
                ("next() copying", {
                    var reader = try CaptureReader(input.bytes)
                    while let packet = reader.next() { sink &+= packet.data.count }
                    count = reader.packetCount
                }),
                // What `capture -r` does for each packet's line, which tcpdump -w does not do.
                ("decode+print", {
                    var reader = try CaptureReader(input.bytes)
                    var printer = PacketPrinter()
                    while let packet = reader.next() { sink &+= printer.line(PacketDecoder.decode(packet)).utf8.count }
                    count = reader.packetCount
                }),
                ("decode+print -v", {
                    var reader = try CaptureReader(input.bytes)
                    var printer = PacketPrinter(verbosity: 1)
                    while let packet = reader.next() { sink &+= printer.line(PacketDecoder.decode(packet, verbosity: 1)).utf8.count }
                    count = reader.packetCount
                }),
                ("decode+print -vv", {
                    var reader = try CaptureReader(input.bytes)
                    var printer = PacketPrinter(verbosity: 2)
                    while let packet = reader.next() { sink &+= printer.line(PacketDecoder.decode(packet, verbosity: 2)).utf8.count }
                    count = reader.packetCount
                }),
            ]
            for (mode, body) in modes {
                let nanoseconds = try measure(rounds: large ? 3 : 5, target: .milliseconds(large ? 300 : 200), body)
                let perPacket = nanoseconds / Double(max(count, 1))
                let ratio = mode.hasPrefix("decode") ? "-" : peer.map { format($0 * 1e6 / nanoseconds, decimals: 1) + "x" } ?? "-"
                print(pad(input.name, 30, left: true) + pad(mode, 16, left: true) + pad(String(count), 9)
                      + pad(format(megabytes, decimals: 1), 8) + pad(format(nanoseconds / 1e6, decimals: 2), 9)
                      + pad(format(perPacket, decimals: 1), 11) + pad(format(1e3 / perPacket, decimals: 1), 12)
                      + pad(format(megabytes / (nanoseconds / 1e9), decimals: 0), 8) + pad(ratio, 12))
            }
            if let peer {
                print(pad(input.name, 30, left: true) + pad("tcpdump -w null", 16, left: true) + pad(String(count), 9)
                      + pad(format(megabytes, decimals: 1), 8) + pad(format(peer, decimals: 2), 9)
                      + pad(format(peer * 1e6 / Double(max(count, 1)), decimals: 1), 11)
                      + pad(format(Double(count) / peer / 1e3, decimals: 1), 12) + pad(format(megabytes / (peer / 1e3), decimals: 0), 8)
                      + pad("1.0x", 12))
            }
            if sink == 0x5eed { print("") }  // keeps the reads alive
        }
    }

    static func largestSharedCapture() -> String? {
        let shared = ProcessInfo.processInfo.environment["SWIFTBPF_SHARED"]
            ?? URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
                .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("shared").path
        let folder = shared + "/pcaps/tcpdump"
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: folder) else { return nil }
        let sized = names.filter { $0.hasSuffix(".pcap") || $0.hasSuffix(".pcapng") }.compactMap { name -> (String, Int)? in
            let path = folder + "/" + name
            guard let size = (try? FileManager.default.attributesOfItem(atPath: path))?[.size] as? Int else { return nil }
            return (path, size)
        }
        return sized.max { $0.1 < $1.1 }?.0
    }

    /// 1,000,000 Ethernet-sized packets of 60 to 108 bytes: about 100 MB of pcap.
    static func synthetic(packets: Int) throws -> (pcap: [UInt8], pcapng: [UInt8]) {
        var pcap = CaptureWriter(format: .pcap, linkType: .ethernet, precision: .nanoseconds)
        var pcapng = CaptureWriter(format: .pcapng, linkType: .ethernet, precision: .nanoseconds)
        let frame = (0..<128).map { UInt8(truncatingIfNeeded: $0 &* 7) }
        try frame.withUnsafeBytes { bytes in
            for index in 0..<packets {
                let length = 60 + index % 49
                let data = UnsafeRawBufferPointer(rebasing: bytes[0..<length])
                let timestamp = 1_700_000_000_000_000_000 + Int64(index) * 1_000
                try pcap.write(data: data, timestamp: timestamp, originalLength: length)
                try pcapng.write(data: data, timestamp: timestamp, originalLength: length)
            }
        }
        return (pcap.takeBytes(), pcapng.takeBytes())
    }

    /// Best of three `tcpdump -r FILE -w /dev/null` runs in milliseconds, or nil without tcpdump.
    static func tcpdumpMilliseconds(_ bytes: [UInt8], path: String?) -> Double? {
        guard let tcpdump = ["/usr/bin/tcpdump", "/usr/sbin/tcpdump", "/usr/local/bin/tcpdump", "/usr/local/sbin/tcpdump"]
            .first(where: { FileManager.default.isExecutableFile(atPath: $0) }) else { return nil }
        var file = path
        var temporary: String?
        if file == nil {
            let name = NSTemporaryDirectory() + "/swiftbpf-bench-\(ProcessInfo.processInfo.processIdentifier).pcap"
            guard FileManager.default.createFile(atPath: name, contents: Data(bytes)) else { return nil }
            (file, temporary) = (name, name)
        }
        defer { if let temporary { try? FileManager.default.removeItem(atPath: temporary) } }
        guard let file else { return nil }
        return spawnTime(tcpdump, ["-r", file, "-w", "/dev/null"], rounds: 3).map { $0 / 1e6 }
    }
}
