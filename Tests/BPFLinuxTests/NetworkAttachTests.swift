#if os(Linux)
@testable import BPFLinux
import BPFObject
import Foundation
import Glibc
import Testing

extension AttachKernelTests {
    /// XDP and tcx on a veth pair in a network namespace of the test's own, a cgroup skb
    /// program on a cgroup it makes, and a socket filter on a loopback UDP socket, with
    /// programs from Fixtures/network.bpf.c counting packets.
    @Suite struct Network {
        @Test(arguments: [XDPMode.generic, .driver])
        func xdpCountsFramesAndSwapsItsProgram(mode: XDPMode) throws {
            try AttachTests.run { tracker in
                let fixture = try LoadedFixture("network", tracker: tracker)
                defer { fixture.close() }
                let namespace = try TestNetworkNamespace()
                defer {
                    namespace.remove()
                    #expect(!namespace.exists, "network namespace \(namespace.name) left behind")
                }
                let program = try fixture.program("xdp_count")
                let (link, sender) = try namespace.run { () throws -> (Link, Int32) in
                    let link = try Link.xdp(interface: "va", mode: mode, program: program)
                    return (link, try TestNetworkNamespace.packetSocket(on: "vb"))
                }
                defer { Glibc.close(sender) }
                try tracker.track(link)
                #expect(link.hook == "XDP (\(mode)) on va")
                #expect(try link.linkInfo().first?.type == 6, "an XDP link")

                try TestNetworkNamespace.sendFrames(20, on: sender)
                #expect(try fixture.count(0, awaiting: 20) == 20)

                // A second program on the same interface is refused, with the reason.
                let busy = #expect(throws: BPFError.self) {
                    try namespace.run { try Link.xdp(interface: "va", mode: mode, program: program) }
                }
                #expect(busy?.description.contains("another XDP program is already attached to va") == true, "\(String(describing: busy))")

                try link.update(program: try fixture.program("xdp_count_again"), replacing: program)
                // A receive poll that began before the swap may still give a frame to the old
                // program. Frames are received in order, so once the new program has counted
                // one, every frame before it is counted and every later one is the new one's.
                var primed: UInt64 = 0
                for _ in 0..<3 where primed == 0 {
                    try TestNetworkNamespace.sendFrames(1, on: sender)
                    primed = try fixture.count(4, awaiting: 1)
                }
                #expect(primed == 1, "the replacing program never saw a frame")
                let old = try fixture.count(0)
                #expect((20...22).contains(old), "the replaced program counted \(old)")
                try TestNetworkNamespace.sendFrames(5, on: sender)
                #expect(try fixture.count(4, awaiting: 6) == 6)
                #expect(try fixture.count(0) == old, "the replaced program ran after the replacing one")

                link.close()
                try TestNetworkNamespace.sendFrames(5, on: sender)
                #expect(try fixture.count(4, awaiting: 6) == 6, "detached when closed")
            }
        }

        @Test func tcxCountsIngressAndEgress() throws {
            try AttachTests.run { tracker in
                let fixture = try LoadedFixture("network", tracker: tracker)
                defer { fixture.close() }
                let namespace = try TestNetworkNamespace()
                defer { namespace.remove() }
                let program = try fixture.program("tcx_count")
                let (ingress, egress, sender) = try namespace.run { () throws -> (Link, Link, Int32) in
                    (try Link.tcx(interface: "va", direction: .ingress, program: program),
                     try Link.tcx(interface: "vb", direction: .egress, program: program),
                     try TestNetworkNamespace.packetSocket(on: "vb"))
                }
                defer { Glibc.close(sender) }
                try tracker.track(ingress)
                try tracker.track(egress)
                #expect(ingress.hook == "tcx ingress on va")
                #expect(try ingress.linkInfo().first?.type == 11, "a tcx link")

                try TestNetworkNamespace.sendFrames(10, on: sender)
                #expect(try fixture.count(1, awaiting: 20) == 20, "10 frames leave vb and 10 arrive at va")
                egress.close()
                try TestNetworkNamespace.sendFrames(3, on: sender)
                #expect(try fixture.count(1, awaiting: 23) == 23)
                ingress.close()
                try TestNetworkNamespace.sendFrames(3, on: sender)
                #expect(try fixture.count(1, awaiting: 23) == 23)

                let missing = #expect(throws: BPFError.self) {
                    try namespace.run { try Link.tcx(interface: "nothere0", direction: .ingress, program: program) }
                }
                #expect(missing?.description.contains("no network interface named 'nothere0'") == true)
            }
        }

        @Test func cgroupEgressCountsAProcessesPackets() throws {
            try AttachTests.run { tracker in
                try AttachTests.withTemporaryDirectory { directory in
                    let binary = try HelperBinary.build(in: directory)
                    let fixture = try LoadedFixture("network", tracker: tracker)
                    defer { fixture.close() }
                    let cgroup = try TestCgroup()
                    defer {
                        cgroup.remove()
                        #expect(!FileManager.default.fileExists(atPath: cgroup.path), "cgroup left behind")
                    }
                    let program = try fixture.program("cgroup_egress_count")
                    let link = try Link.cgroup(cgroup.path, attachType: .cgroupInetEgress, program: program)
                    try tracker.track(link)
                    #expect(try link.linkInfo().first?.type == 3, "a cgroup link")

                    try AttachTests.run(binary, ["send", cgroup.path + "/cgroup.procs", "12", "9"])
                    #expect(try fixture.count(2, awaiting: 12) == 12)
                    link.close()

                    let wrongHook = #expect(throws: BPFError.self) {
                        try Link.cgroup(cgroup.path, attachType: .cgroupInet4Connect, program: program)
                    }
                    #expect(wrongHook?.description.contains("the program is a cgroup_skb program") == true, "\(String(describing: wrongHook))")
                    let noFolder = #expect(throws: BPFError.self) {
                        try Link.cgroup(cgroup.path + "/absent", attachType: .cgroupInetEgress, program: program)
                    }
                    #expect(noFolder?.description.contains("no cgroup folder at") == true)
                }
            }
        }

        /// cgroup sock and sock_addr programs on a cgroup the test makes, seen by a helper
        /// process that joins it: socket creation counted and IPv6 UDP refused; an IPv4
        /// connect counted and its port rewritten. Closing the links undoes both.
        @Test func cgroupSockRefusesSocketsAndSockAddrRewritesConnects() throws {
            try AttachTests.run { tracker in
                try AttachTests.withTemporaryDirectory { directory in
                    let binary = try HelperBinary.build(in: directory)
                    let fixture = try LoadedFixture("cgroup_sock", tracker: tracker)
                    defer { fixture.close() }
                    let cgroup = try TestCgroup()
                    defer {
                        cgroup.remove()
                        #expect(!FileManager.default.fileExists(atPath: cgroup.path), "cgroup left behind")
                    }
                    let procs = cgroup.path + "/cgroup.procs"
                    let create = try Link.cgroup(cgroup.path, attachType: .cgroupInetSocketCreate, program: try fixture.program("sock_create"))
                    try tracker.track(create)
                    let connect = try Link.cgroup(cgroup.path, attachType: .cgroupInet4Connect, program: try fixture.program("connect4"))
                    try tracker.track(connect)
                    #expect(try create.linkInfo().first?.type == 3, "a cgroup link")
                    #expect(try connect.linkInfo().first?.type == 3, "a cgroup link")

                    #expect(try AttachTests.run(binary, ["sockets", procs]) == "tcp4 ok udp6 \(String(cString: strerror(EPERM)))\n")
                    #expect(try fixture.count(0, awaiting: 2) == 2, "both socket() calls seen")
                    // Connected UDP: the peer the socket reports is where the connect went.
                    #expect(try AttachTests.run(binary, ["connect", procs, "4242"]) == "4243\n")
                    #expect(try AttachTests.run(binary, ["connect", procs, "4300"]) == "4300\n")
                    #expect(try fixture.count(1, awaiting: 2) == 2)
                    #expect(try fixture.count(0, awaiting: 4) == 4, "the connecting sockets were created in the cgroup too")

                    create.close()
                    connect.close()
                    #expect(try AttachTests.run(binary, ["sockets", procs]) == "tcp4 ok udp6 ok\n")
                    #expect(try AttachTests.run(binary, ["connect", procs, "4242"]) == "4242\n")
                    #expect(try fixture.count(0, awaiting: 4) == 4, "detached when closed")
                    #expect(try fixture.count(1, awaiting: 2) == 2, "detached when closed")

                    let wrongHook = #expect(throws: BPFError.self) {
                        try Link.cgroup(cgroup.path, attachType: .cgroupInet4Connect, program: try fixture.program("sock_create"))
                    }
                    #expect(wrongHook?.description.contains("cgroup_sock") == true, "\(String(describing: wrongHook))")
                }
            }
        }

        @Test func socketFilterKeepsShortDatagramsAndDetachesOnClose() throws {
            try AttachTests.run { tracker in
                let fixture = try LoadedFixture("network", tracker: tracker)
                defer { fixture.close() }
                let receiver = try UDPSocket()
                defer { receiver.close() }
                let sender = try UDPSocket()
                defer { sender.close() }

                let link = try Link.socketFilter(socket: receiver.fd, program: try fixture.program("short_datagrams"))
                #expect(link.linkDescriptors.isEmpty)
                for _ in 0..<5 {
                    try sender.send([UInt8](repeating: 1, count: 10), to: receiver.port)
                    try sender.send([UInt8](repeating: 2, count: 200), to: receiver.port)
                }
                let received = receiver.receiveAll()
                #expect(received.map(\.count) == [Int](repeating: 10, count: 5))
                #expect(try fixture.count(3, awaiting: 10) == 10)

                link.close()
                try sender.send([UInt8](repeating: 3, count: 200), to: receiver.port)
                #expect(receiver.receiveAll().map(\.count) == [200], "the filter is gone")
                #expect(try fixture.count(3, awaiting: 10) == 10)

                let notSocket = #expect(throws: BPFError.self) {
                    try Link.socketFilter(socket: fixture.maps[0].fileDescriptor.rawValue, program: try fixture.program("short_datagrams"))
                }
                #expect(notSocket?.description.contains("is not a socket") == true, "\(String(describing: notSocket))")
            }
        }
    }
}

/// A UDP socket on 127.0.0.1 with a port of its own.
struct UDPSocket {
    let fd: Int32
    let port: UInt16

    init() throws {
        let fd = socket(AF_INET, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = UInt32(0x7f00_0001).bigEndian
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let ok = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { pointer in
                bind(fd, pointer, length) == 0 && getsockname(fd, pointer, &length) == 0
            }
        }
        guard fd >= 0, ok else { throw AttachTests.ToolFailure(description: "UDP socket: \(String(cString: strerror(errno)))") }
        self.fd = fd
        port = UInt16(bigEndian: address.sin_port)
    }

    func send(_ bytes: [UInt8], to port: UInt16) throws {
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = UInt32(0x7f00_0001).bigEndian
        address.sin_port = port.bigEndian
        let sent = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                sendto(fd, bytes, bytes.count, 0, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard sent == bytes.count else { throw AttachTests.ToolFailure(description: "sendto: \(String(cString: strerror(errno)))") }
    }

    /// Every datagram waiting (loopback delivers before sendto returns).
    func receiveAll() -> [[UInt8]] {
        var datagrams: [[UInt8]] = []
        var buffer = [UInt8](repeating: 0, count: 2048)
        while true {
            let count = recv(fd, &buffer, buffer.count, Int32(MSG_DONTWAIT))
            if count < 0 { return datagrams }
            datagrams.append(Array(buffer[0..<count]))
        }
    }

    func close() { Glibc.close(fd) }
}
#endif
