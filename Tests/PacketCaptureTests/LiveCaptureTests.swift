#if os(Linux)
import Dispatch
import Foundation
import Glibc
import PacketCapture
import Synchronization
import PacketFilter
import TestPeers
import Testing

/// Live capture on the real kernel: datagrams sent over loopback and Ethernet frames written
/// on one end of a veth pair the test creates (and deletes). The filter `udp port 9999` runs
/// in the kernel, so the kernel's own counter of accepted packets shows that nothing else got
/// through; the packets must be exactly the matching ones sent, byte for byte.
@Suite(.serialized) struct LiveCaptureTests {
    static var kernelRequired: Bool { ProcessInfo.processInfo.environment["SWIFTBPF_REQUIRE_KERNEL"] == "1" }

    static func available() -> Bool {
        if geteuid() == 0 { return true }
        if kernelRequired {
            Issue.record("live capture needs root and SWIFTBPF_REQUIRE_KERNEL=1 is set")
        } else {
            print("skipped: live capture needs root (CAP_NET_RAW)")
        }
        return false
    }

    /// The next `count` packets, or fewer if they stop coming: a watchdog closes the capture
    /// after `patience` seconds, so a lost packet fails the test instead of hanging it (a
    /// guard, not a measurement). The iteration runs on a thread of its own: the test holds
    /// the kernel test lock, which other tests wait for on cooperative threads.
    static func collect(_ capture: LiveCapture, _ count: Int, patience: Double = 5) -> [Packet] {
        let watchdog = Watchdog(capture, after: patience)
        defer { watchdog.cancel() }
        do {
            return try ThreadExecutor.blocking {
                var packets: [Packet] = []
                for try await packet in capture.packets {
                    packets.append(packet)
                    if packets.count == count { break }
                }
                return packets
            }
        } catch {
            Issue.record("reading packets: \(error)")
            return []
        }
    }

    /// Sockets open in this process, as fd → "socket:[inode]".
    static func sockets() -> [String: String] {
        var result: [String: String] = [:]
        for entry in (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd")) ?? [] {
            if let target = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/fd/\(entry)"), target.hasPrefix("socket:") {
                result[entry] = target
            }
        }
        return result
    }

    static func mappedSockets() -> Set<String> {
        // procfs reports a size of 0, so read to the end rather than trusting the size.
        let maps = String(decoding: FileHandle(forReadingAtPath: "/proc/self/maps")?.readDataToEndOfFile() ?? Data(), as: UTF8.self)
        return Set(maps.split(separator: "\n").compactMap { line in line.split(separator: " ").last.map(String.init) }.filter { $0.hasPrefix("socket:") })
    }

    /// Runs `body` with a capture and checks that closing it released its socket and ring.
    /// The capture's socket is the new one whose inode is mapped (its ring): other tests may
    /// open sockets of their own meanwhile.
    static func withCapture(_ configuration: LiveCapture.Configuration, _ body: (LiveCapture) throws -> Void) throws {
        try KernelTestLock.run {
            let before = sockets()
            let capture = try LiveCapture(configuration)
            let mapped = mappedSockets()
            let ours = sockets().filter { before[$0.key] != $0.value && mapped.contains($0.value) }
            #expect(ours.count == 1, "one new socket with a mapped ring: \(ours)")
            try body(capture)
            capture.close()
            capture.close()  // a second close is harmless
            let left = sockets().filter { ours[$0.key] == $0.value }
            #expect(left.isEmpty, "socket left open: \(left)")
            #expect(mappedSockets().isDisjoint(with: Set(ours.values)), "ring left mapped")
        }
    }

    @Test func loopbackDeliversExactlyTheMatchingDatagrams() throws {
        guard Self.available() else { return }
        let program = try PacketFilter.compile("udp port 9999", linkType: .ethernet)
        try Self.withCapture(.init(interface: "lo", filter: program, lockFilter: true)) { capture in
            #expect(capture.linkType == .ethernet)
            let sender = socket(AF_INET, Int32(SOCK_DGRAM.rawValue), 0)
            #expect(sender >= 0)
            defer { close(sender) }
            // Non-matching first: anything the filter let through would arrive before the rest.
            for index in 0..<5 { send(sender, port: 9998, Array("other \(index)".utf8)) }
            let payloads = (0..<5).map { Array("datagram \($0)".utf8) }
            for payload in payloads { send(sender, port: 9999, payload) }
            let packets = Self.collect(capture, payloads.count)
            #expect(packets.count == payloads.count)
            for (packet, payload) in zip(packets, payloads) {
                // Ethernet (14) + IPv4 (20) + UDP (8), then the payload.
                #expect(Array(packet.data.dropFirst(42)) == payload)
                #expect(packet.data[36] == 0x27 && packet.data[37] == 0x0f)  // destination port 9999
                #expect(packet.originalLength == packet.data.count && packet.linkType == .ethernet)
            }
            // Loopback shows each datagram leaving and arriving; the kernel filter accepted
            // both copies of the five matching ones and none of the others. After close the
            // reader thread has ended, so the counters are final.
            capture.close()
            let statistics = capture.statistics()
            #expect(statistics.received == 10, "\(statistics)")
            #expect(statistics.droppedByKernel == 0 && statistics.delivered == 5)
        }
    }

    @Test func vethFramesArriveByteForByte() throws {
        guard Self.available() else { return }
        guard let (inside, outside) = makeVethPair("sbc") else { return }
        defer { _ = ip(["link", "del", inside]) }
        let program = try PacketFilter.compile("udp port 9999", linkType: .ethernet)
        try Self.withCapture(.init(interface: inside, filter: program, promiscuous: true, blockSize: 1 << 16, blockCount: 4, blockTimeout: 10)) { capture in
            #expect(capture.linkType == .ethernet)
            let writer = socket(AF_PACKET, Int32(SOCK_RAW.rawValue), 0)
            #expect(writer >= 0)
            defer { close(writer) }
            let index = if_nametoindex(outside)
            for number in 0..<4 { sendFrame(writer, index, frame(port: 9998, number)) }
            let frames = (0..<6).map { frame(port: 9999, $0) }
            for frame in frames { sendFrame(writer, index, frame) }
            let packets = Self.collect(capture, frames.count)
            #expect(packets.map(\.data) == frames)
            capture.close()
            let statistics = capture.statistics()
            #expect(statistics.received == UInt64(frames.count), "\(statistics)")
        }
    }

    @Test func cancellingTheReaderEndsTheStream() throws {
        guard Self.available() else { return }
        try Self.withCapture(.init(interface: "lo", filter: try PacketFilter.compile("udp port 9995", linkType: .ethernet))) { capture in
            let watchdog = Watchdog(capture, after: 5)
            defer { watchdog.cancel() }
            try ThreadExecutor.blocking {
                let reader = Task(executorPreference: ThreadExecutor.shared) {
                    for try await _ in capture.packets {}
                }
                reader.cancel()
                try await reader.value
            }
            // The stream ended on cancellation, with no packet and no close.
            #expect(!watchdog.fired)
        }
    }

    @Test func mistakesAreNamed() throws {
        guard Self.available() else { return }
        #expect(throws: LiveCaptureError.self) { try LiveCapture(.init(interface: "nosuchif0")) }
        do {
            _ = try LiveCapture(.init(interface: "nosuchif0"))
        } catch {
            #expect(error.kind == .noSuchInterface && error.description.contains("nosuchif0"))
        }
        do {
            _ = try LiveCapture(.init(interface: "lo", blockSize: 3000))
        } catch {
            #expect(error.kind == .invalidConfiguration)
        }
        #expect(try LiveCapture.linkType(of: "lo") == .ethernet)
        #expect(try LiveCapture.linkType(of: nil) == .linuxSLL2)
    }

    /// -B sizes: the ring holds the buffer asked for, in at least two blocks the kernel
    /// takes, each with room for a packet of the snapshot length.
    @Test(arguments: [(1024, 262_144), (65_536, 1500), (1 << 20, 262_144), (8 << 20, 262_144), (8 << 20, 96), (3 << 30, 262_144)])
    func bufferSizeGivesAValidRing(_ bytes: Int, _ snapshotLength: Int) {
        var configuration = LiveCapture.Configuration(interface: "lo", snapshotLength: snapshotLength)
        configuration.setBufferSize(bytes)
        let pageSize = Int(sysconf(Int32(_SC_PAGESIZE)))
        let size = configuration.blockSize, count = configuration.blockCount
        #expect(size >= pageSize && size.nonzeroBitCount == 1 && size <= 1 << 30 && size >= snapshotLength + 128)
        #expect((2...1024).contains(count))
        #expect(size * count <= max(bytes, 2 * size) && size * count > bytes / 2, "\(bytes): \(size) × \(count)")
    }

    @Test func anyInterfaceGivesCookedHeaders() throws {
        guard Self.available() else { return }
        // The header fields become ancillary loads in the kernel: protocol, interface, packet type.
        let program = try PacketFilter.compile("udp port 9997 and ifindex \(if_nametoindex("lo")) and inbound", linkType: .sll2)
        try Self.withCapture(.init(interface: "any", filter: program)) { capture in
            #expect(capture.linkType == .linuxSLL2)
            let sender = socket(AF_INET, Int32(SOCK_DGRAM.rawValue), 0)
            defer { close(sender) }
            send(sender, port: 9997, Array("cooked".utf8))
            let packets = Self.collect(capture, 1)
            #expect(packets.count == 1)
            guard let packet = packets.first else { return }
            let summary = PacketDecoder.decode(packet)
            #expect(summary.undecoded.isEmpty && summary.truncatedIn == nil)
            #expect(Array(packet.data.suffix(6)) == Array("cooked".utf8))
            // SLL2: protocol IPv4, interface lo, hardware type loopback (772), packet type host.
            #expect(Array(packet.data.prefix(12)) == [0x08, 0x00, 0, 0, 0, 0, 0, UInt8(if_nametoindex("lo")), 0x03, 0x04, 0, 6])
            // The filter ran in the kernel: of the datagram's two copies on lo it accepted only
            // the arriving one (`inbound`), where a user-space filter would count both.
            capture.close()
            let statistics = capture.statistics()
            #expect(statistics.received == 1, "\(statistics)")
        }
    }
}

/// Closes a capture if the test is still waiting after a while.
private final class Watchdog {
    private final class Flag: Sendable {
        let fired = Mutex(false)
    }

    private let work: DispatchWorkItem
    private let flag = Flag()

    init(_ capture: LiveCapture, after seconds: Double) {
        let flag = self.flag
        work = DispatchWorkItem {
            flag.fired.withLock { $0 = true }
            capture.close()
        }
        DispatchQueue.global().asyncAfter(deadline: .now() + seconds, execute: work)
    }

    var fired: Bool { flag.fired.withLock { $0 } }
    func cancel() { work.cancel() }
}

private func send(_ fd: Int32, port: UInt16, _ payload: [UInt8]) {
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_port = port.bigEndian
    address.sin_addr.s_addr = UInt32(0x7f00_0001).bigEndian
    _ = payload.withUnsafeBytes { bytes in
        withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                sendto(fd, bytes.baseAddress, bytes.count, 0, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
    }
}

#endif
