#if os(Linux)
@testable import BPFTools
import BPFLinux
import Foundation
import Glibc
import Testing

extension BPFToolsKernelTests {
    /// tcplife and tcpstates on the real kernel: a TCP connection over loopback made by the
    /// test, with a known number of bytes each way.
    @Suite struct TcpToolTests {
        @Test func tcplifeReportsASessionWithItsBytes() throws {
            try ToolTests.run {
                let tracer = try TcpLife.start(.init(pid: getpid()))
                defer { tracer.close() }
                var server: UInt16 = 0
                let (client, events, attempts) = try Loopback.observe(tracer, exchange: {
                    let ports = try Loopback.exchange(clientSends: 100_000, serverSends: 5_000)
                    server = ports.server
                    return ports.client
                }, until: { event, client in event.endpoints.localPort == client })
                let session = try #require(events.first { $0.endpoints.localPort == client }, "\(events); \(attempts)")
                #expect(session.pid == getpid())
                #expect(session.endpoints.localAddress == "127.0.0.1" && session.endpoints.remoteAddress == "127.0.0.1")
                #expect(session.endpoints.remotePort == server)
                // The kernel's counters also count the SYN and FIN, one sequence number each.
                #expect((100_000...100_002).contains(session.bytesSent), "\(session)")
                #expect((5_000...5_001).contains(session.bytesReceived), "\(session)")
                #expect(session.durationNanoseconds > 0)
            }
        }

        @Test func tcpstatesFollowsAConnectionToClose() throws {
            try ToolTests.run {
                let tracer = try TcpStates.start()
                defer { tracer.close() }
                let (client, events, attempts) = try Loopback.observe(tracer, exchange: {
                    try Loopback.exchange(clientSends: 10, serverSends: 10).client
                }, until: { event, client in event.endpoints.localPort == client && event.newState == "CLOSE" })
                let changes = events.filter { $0.endpoints.localPort == client }.map { "\($0.oldState)->\($0.newState)" }
                #expect(changes.first == "SYN_SENT->ESTABLISHED", "\(changes); \(attempts)")
                #expect(changes.last?.hasSuffix("->CLOSE") == true, "\(changes)")
                #expect(Set(events.filter { $0.endpoints.localPort == client }.map(\.socket)).count == 1)
            }
        }
    }
}

/// A TCP connection over 127.0.0.1 inside this process.
enum Loopback {
    /// Runs `exchange` (which returns the client's port) and collects the tracer's events until
    /// one satisfies `until`, at most three times in all. In three full test runs under heavy
    /// load a whole exchange went unreported with no run skipped by the kernel; the cause is
    /// not found yet, so each attempt prints the program's runs (other tests' TCP traffic
    /// counts too), the runs the kernel skipped and the events lost to a full ring, and a test
    /// passes only with the events of one whole exchange.
    static func observe<Event>(_ tracer: EventTracer<Event>, exchange: () throws -> UInt16,
                               until found: (Event, UInt16) -> Bool) throws -> (client: UInt16, events: [Event], attempts: [String]) {
        let statistics = try SystemCall.enableStatistics()
        defer { statistics.close() }
        var attempts: [String] = []
        for _ in 1...3 {
            let before = try tracer.runCounts()
            let client = try exchange()
            let events = try ToolTests.collect(tracer) { found($0, client) }
            let after = try tracer.runCounts()
            attempts.append("attempt \(attempts.count + 1): \(after.runs - before.runs) runs, \(after.missed - before.missed) skipped by the kernel, "
                            + "\(try tracer.lostEvents()) events lost in all, \(events.count) events")
            if events.contains(where: { found($0, client) }) { return (client, events, attempts) }
            print("tcp tool test: no event for port \(client) (\(attempts.last ?? "")); trying again")
        }
        return (0, [], attempts)
    }

    struct Failure: Error, CustomStringConvertible { var description: String }

    /// Connects, sends `clientSends` bytes to the server and `serverSends` back, closes the
    /// client first; returns the client's and the server's ports.
    static func exchange(clientSends: Int, serverSends: Int) throws -> (client: UInt16, server: UInt16) {
        let listener = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard listener >= 0 else { throw Failure(description: "socket: \(errno)") }
        defer { close(listener) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        guard withSocketAddress(&address, { bind(listener, $0, $1) }) == 0, listen(listener, 1) == 0 else {
            throw Failure(description: "bind/listen: \(errno)")
        }
        let serverPort = try port(of: listener)
        let client = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard client >= 0 else { throw Failure(description: "socket: \(errno)") }
        address.sin_port = serverPort.bigEndian
        guard withSocketAddress(&address, { connect(client, $0, $1) }) == 0 else { throw Failure(description: "connect: \(errno)") }
        let clientPort = try port(of: client)
        let connection = accept(listener, nil, nil)
        guard connection >= 0 else { throw Failure(description: "accept: \(errno)") }
        let sent = DispatchSemaphore(value: 0)
        Thread {
            _ = sendAll(client, count: clientSends)
            sent.signal()
        }.start()
        _ = receive(connection, count: clientSends)
        sent.wait()
        _ = sendAll(connection, count: serverSends)
        _ = receive(client, count: serverSends)
        close(client)
        close(connection)
        return (clientPort, serverPort)
    }

    static func port(of descriptor: Int32) throws -> UInt16 {
        var address = sockaddr_in()
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let result = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(descriptor, $0, &length) }
        }
        guard result == 0 else { throw Failure(description: "getsockname: \(errno)") }
        return UInt16(bigEndian: address.sin_port)
    }

    static func withSocketAddress(_ address: inout sockaddr_in, _ body: (UnsafePointer<sockaddr>, socklen_t) -> Int32) -> Int32 {
        withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { body($0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
    }

    static func sendAll(_ descriptor: Int32, count: Int) -> Int {
        let bytes = [UInt8](repeating: 0x61, count: count)
        var offset = 0
        while offset < count {
            let written = bytes[offset...].withUnsafeBytes { send(descriptor, $0.baseAddress, $0.count, 0) }
            if written <= 0 { break }
            offset += written
        }
        return offset
    }

    static func receive(_ descriptor: Int32, count: Int) -> Int {
        var buffer = [UInt8](repeating: 0, count: 65536)
        var total = 0
        while total < count {
            let read = buffer.withUnsafeMutableBytes { recv(descriptor, $0.baseAddress, $0.count, 0) }
            if read <= 0 { break }
            total += read
        }
        return total
    }
}
#endif
