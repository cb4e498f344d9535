#if os(Linux)
@testable import BPFLinux
import BPFObject
import CBPFLinux
import Foundation
import Glibc
import Synchronization
import TestPeers
import Testing

/// What the attach and event tests share: fixtures compiled and loaded with their maps, a
/// check that every kernel object and descriptor a test made is gone afterwards, and the
/// things tests attach to (a test binary, network namespaces, cgroups).
enum AttachTests {
    static let clang = KernelTests.clang

    /// A temporary folder for one test's files, removed afterwards.
    static func withTemporaryDirectory<T>(_ body: (String) throws -> T) throws -> T {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("swiftbpf-attach-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: path) }
        return try body(path)
    }

    struct ToolFailure: Error, CustomStringConvertible {
        var description: String
    }

    /// Runs a tool to completion; throws with its standard error when it fails.
    @discardableResult
    static func run(_ executable: String, _ arguments: [String]) throws -> String {
        String(decoding: try KernelTests.runTool(executable, arguments), as: UTF8.self)
    }

    // MARK: Leaks

    /// Runs `body` as a kernel test (`KernelTests.run`: skipped without bpf(2), alone among
    /// the kernel tests, no bpf descriptor left open), then checks what is particular to
    /// attaching: the programs, maps and links it registered (by kernel id) are freed, and
    /// no perf event descriptor is still open.
    static func run(sourceLocation: SourceLocation = #_sourceLocation, _ body: (Tracker) throws -> Void) throws {
        try KernelTests.run(sourceLocation: sourceLocation) {
            let before = eventDescriptors()
            let tracker = Tracker()
            try body(tracker)
            let open = eventDescriptors().subtracting(before)
            #expect(open.isEmpty, "perf event descriptors left open: \(open.sorted())", sourceLocation: sourceLocation)
            // The kernel frees programs, maps and links after an RCU grace period or in a
            // work queue; give it a moment.
            var alive: [String] = []
            for _ in 0..<60 {
                alive = tracker.alive()
                if alive.isEmpty { break }
                usleep(50_000)
            }
            #expect(alive.isEmpty, "kernel objects still alive: \(alive)", sourceLocation: sourceLocation)
        }
    }

    /// Runs async `body` to completion off the cooperative pool (see `ThreadExecutor.blocking`).
    static func blocking<T: Sendable>(_ body: @escaping @Sendable () async throws -> T) throws -> T {
        try ThreadExecutor.blocking(body)
    }

    /// Kernel objects a test made, by id.
    final class Tracker: Sendable {
        private let objects = Mutex<[(KernelObjectKind, UInt32)]>([])

        func track(_ kind: KernelObjectKind, _ id: UInt32) { objects.withLock { $0.append((kind, id)) } }
        func track(_ program: KernelProgram) { track(.program, program.id) }
        func track(_ map: Map) { track(.map, map.id) }
        func track(_ link: Link) throws {
            for info in try link.linkInfo() { track(.link, info.id) }
        }

        /// Those that the kernel still has.
        func alive() -> [String] {
            objects.withLock { $0 }.compactMap { kind, id in
                guard let fd = try? SystemCall.fileDescriptor(of: kind, id: id) else { return nil }
                fd.close()
                return "\(kind) \(id)"
            }
        }
    }

    /// Open descriptors that are perf events, as "fd -> target".
    static func eventDescriptors() -> Set<String> {
        var result: Set<String> = []
        guard let entries = try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd") else { return result }
        for entry in entries {
            guard let target = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/fd/\(entry)") else { continue }
            if target.contains("perf_event") { result.insert("\(entry) -> \(target)") }
        }
        return result
    }

    /// setns(fd, CLONE_NEWNET) for the calling thread; Glibc's module does not export setns,
    /// so it is looked up in the C library.
    static func enterNamespace(_ fd: Int32) -> Bool {
        typealias SetNamespace = @convention(c) (Int32, Int32) -> Int32
        guard let symbol = dlsym(nil, "setns") else { return false }
        return unsafeBitCast(symbol, to: SetNamespace.self)(fd, 0x4000_0000) == 0
    }

    /// Pins the calling thread to `cpu` (sched_setaffinity, looked up like setns).
    static func pinThread(to cpu: Int) -> Bool {
        typealias SetAffinity = @convention(c) (Int32, Int, UnsafeRawPointer) -> Int32
        guard let symbol = dlsym(nil, "sched_setaffinity"), cpu >= 0, cpu < 1024 else { return false }
        var mask = [UInt8](repeating: 0, count: 128)
        mask[cpu / 8] = UInt8(1 << (cpu % 8))
        return mask.withUnsafeBytes { unsafeBitCast(symbol, to: SetAffinity.self)(0, $0.count, $0.baseAddress!) } == 0
    }

    /// The calling thread's id (gettid(2), which Glibc's module does not export).
    static func threadID() -> Int32 { swiftbpf_thread_id() }

    // MARK: Values

    static func bytes<T: BitwiseCopyable>(_ value: T) -> [UInt8] { withUnsafeBytes(of: value) { Array($0) } }

    static func value<T: BitwiseCopyable>(_ bytes: [UInt8], at offset: Int = 0, as type: T.Type = T.self) -> T {
        bytes.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: offset, as: T.self) }
    }
}

/// The kernel attach and event tests. Each runs through `AttachTests.run`, alone among the
/// kernel tests, since they count events of this process and check its descriptors.
@Suite(.serialized) struct AttachKernelTests {}


/// A fixture object in the kernel: its maps created, its programs loaded on demand, and
/// the shared `target` and `counts` maps of attach_helpers.h at hand.
final class LoadedFixture {
    let object: ObjectFile
    let maps: [Map]
    private var programs: [KernelProgram] = []
    private let tracker: AttachTests.Tracker

    init(_ name: String, tracker: AttachTests.Tracker) throws {
        object = try KernelTests.object(name)
        self.tracker = tracker
        var maps: [Map] = []
        for spec in object.maps {
            // As libbpf: a perf event array without a size gets one slot per possible CPU.
            let entries = spec.type == .perfEventArray && spec.maxEntries == 0 ? try PossibleCPUs.count() : Int(spec.maxEntries)
            let map = try Map(type: spec.type, keySize: Int(spec.keySize), valueSize: Int(spec.valueSize), maxEntries: entries,
                              flags: Map.Flags(rawValue: spec.flags), name: spec.name)
            tracker.track(map)
            maps.append(map)
        }
        self.maps = maps
    }

    func map(_ name: String) throws -> Map {
        guard let map = maps.first(where: { $0.name == name }) else { throw AttachTests.ToolFailure(description: "no map \(name)") }
        return map
    }

    /// The program named `name`, loaded with the object's maps.
    func program(_ name: String) throws -> KernelProgram {
        guard let spec = object.programs.first(where: { $0.name == name }) else {
            throw AttachTests.ToolFailure(description: "no program \(name) in \(object.name)")
        }
        let program = try KernelProgram(spec, maps: maps)
        tracker.track(program)
        programs.append(program)
        return program
    }

    /// Makes the programs count only process or thread `id` (default: the calling thread,
    /// so that other tests running meanwhile do not add to the counts).
    func setTarget(_ id: Int32 = AttachTests.threadID()) throws {
        try map("target").update(key: AttachTests.bytes(UInt32(0)), value: AttachTests.bytes(UInt32(bitPattern: id)))
    }

    func count(_ slot: UInt32) throws -> UInt64 {
        guard let bytes = try map("counts").lookup(key: AttachTests.bytes(slot)) else { return 0 }
        return AttachTests.value(bytes, as: UInt64.self)
    }

    /// The count once it is `expected`, or what it is after 5 s: frames sent on a veth pair
    /// reach the peer's hooks from the receive backlog, which may run after `send` returns.
    func count(_ slot: UInt32, awaiting expected: UInt64) throws -> UInt64 {
        let start = ContinuousClock.now
        var current = try count(slot)
        while current != expected, ContinuousClock.now - start < .seconds(5) {
            usleep(2_000)
            current = try count(slot)
        }
        return current
    }

    func close() {
        for program in programs { program.close() }
        for map in maps { map.close() }
    }

    deinit { close() }
}
#endif

#if os(Linux)
/// A small C program the tests probe and use as a separate process: `calls N` waits for a
/// byte on stdin (so probes can be attached first), then calls `swiftbpf_add(i, 1000)` for
/// i in 1...N; `send CGROUP_PROCS N PORT` joins a cgroup, then sends N UDP datagrams to
/// 127.0.0.1:PORT; `sockets CGROUP_PROCS` joins a cgroup, makes an IPv4 TCP and an IPv6
/// UDP socket and prints "tcp4 ok|errno udp6 ok|errno"; `connect CGROUP_PROCS PORT` joins
/// a cgroup, connects a UDP socket to 127.0.0.1:PORT and prints the peer's port as the
/// socket sees it.
enum HelperBinary {
    static let source = #"""
    #include <arpa/inet.h>
    #include <errno.h>
    #include <fcntl.h>
    #include <stdio.h>
    #include <stdlib.h>
    #include <string.h>
    #include <sys/socket.h>
    #include <unistd.h>

    __attribute__((noinline)) int swiftbpf_add(int a, int b) {
        __asm__ volatile("" ::: "memory");
        return a + b;
    }

    int main(int argc, char **argv) {
        if (argc == 3 && strcmp(argv[1], "calls") == 0) {
            char go;
            if (read(0, &go, 1) != 1) return 2;
            long total = 0;
            for (int i = 1; i <= atoi(argv[2]); i++) total += swiftbpf_add(i, 1000);
            printf("%ld\n", total);
            return 0;
        }
        if (argc == 5 && strcmp(argv[1], "send") == 0) {
            int procs = open(argv[2], O_WRONLY);
            if (procs < 0 || dprintf(procs, "%d\n", getpid()) < 0) return 3;
            close(procs);
            int fd = socket(AF_INET, SOCK_DGRAM, 0);
            struct sockaddr_in to = { .sin_family = AF_INET, .sin_port = htons(atoi(argv[4])) };
            to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
            for (int i = 0; i < atoi(argv[3]); i++) {
                if (sendto(fd, "swiftbpf", 8, 0, (struct sockaddr *)&to, sizeof to) != 8) return 4;
            }
            return 0;
        }
        if (argc >= 3 && (strcmp(argv[1], "sockets") == 0 || strcmp(argv[1], "connect") == 0)) {
            int procs = open(argv[2], O_WRONLY);
            if (procs < 0 || dprintf(procs, "%d\n", getpid()) < 0) return 3;
            close(procs);
            if (strcmp(argv[1], "sockets") == 0) {
                int tcp = socket(AF_INET, SOCK_STREAM, 0);
                int tcpError = errno;
                int udp = socket(AF_INET6, SOCK_DGRAM, 0);
                int udpError = errno;
                printf("tcp4 %s udp6 %s\n", tcp >= 0 ? "ok" : strerror(tcpError), udp >= 0 ? "ok" : strerror(udpError));
                return 0;
            }
            if (argc != 4) return 1;
            int fd = socket(AF_INET, SOCK_DGRAM, 0);
            struct sockaddr_in to = { .sin_family = AF_INET, .sin_port = htons(atoi(argv[3])) };
            to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
            if (connect(fd, (struct sockaddr *)&to, sizeof to) != 0) return 5;
            struct sockaddr_in peer;
            socklen_t length = sizeof peer;
            if (getpeername(fd, (struct sockaddr *)&peer, &length) != 0) return 6;
            printf("%d\n", ntohs(peer.sin_port));
            return 0;
        }
        return 1;
    }
    """#

    /// Compiles the program into `directory`; returns its path.
    static func build(in directory: String) throws -> String {
        let sourcePath = directory + "/helper.c"
        let binary = directory + "/helper"
        try source.write(toFile: sourcePath, atomically: true, encoding: .utf8)
        let compiler = FileManager.default.isExecutableFile(atPath: "/usr/bin/cc") ? "/usr/bin/cc" : AttachTests.clang
        try AttachTests.run(compiler, ["-O1", "-g", "-o", binary, sourcePath])
        return binary
    }
}
#endif

#if os(Linux)
/// A network namespace of the test's own (`ip netns add`) holding a veth pair, va and vb,
/// both up; deleted, with the pair, by `remove()`.
final class TestNetworkNamespace: Sendable {
    let name: String
    static let ip = "/usr/sbin/ip"

    init() throws {
        name = "swiftbpf-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        try AttachTests.run(Self.ip, ["netns", "add", name])
        do {
            try AttachTests.run(Self.ip, ["-n", name, "link", "add", "va", "type", "veth", "peer", "name", "vb"])
            for device in ["va", "vb"] {
                // No IPv6 link-local address: nothing but the test's own frames on the wire.
                try AttachTests.run(Self.ip, ["-n", name, "link", "set", "dev", device, "addrgenmode", "none"])
                try AttachTests.run(Self.ip, ["-n", name, "link", "set", "dev", device, "up"])
            }
        } catch {
            remove()
            throw error
        }
    }

    func remove() {
        _ = try? AttachTests.run(Self.ip, ["netns", "delete", name])
    }

    var exists: Bool { FileManager.default.fileExists(atPath: "/var/run/netns/\(name)") }

    /// Runs `body` on a thread of its own that has entered the namespace (setns changes
    /// only the calling thread), and waits for it. Sockets and links made there stay bound
    /// to the namespace when used from elsewhere.
    func run<T: Sendable>(_ body: @escaping @Sendable () throws -> T) throws -> T {
        let result = Mutex<Result<T, any Error>?>(nil)
        let done = DispatchSemaphore(value: 0)
        let path = "/var/run/netns/\(name)"
        let thread = Thread {
            defer { done.signal() }
            let fd = open(path, O_RDONLY | O_CLOEXEC)
            guard fd >= 0, AttachTests.enterNamespace(fd) else {
                let message = String(cString: strerror(errno))
                if fd >= 0 { Glibc.close(fd) }
                result.withLock { $0 = .failure(AttachTests.ToolFailure(description: "setns \(path): \(message)")) }
                return
            }
            Glibc.close(fd)
            let outcome = Result { try body() }
            result.withLock { $0 = outcome }
        }
        thread.start()
        done.wait()
        guard let outcome = result.withLock({ $0 }) else { throw AttachTests.ToolFailure(description: "namespace thread gave nothing") }
        return try outcome.get()
    }

    /// A raw packet socket sending on `device` (call inside `run`).
    static func packetSocket(on device: String) throws -> Int32 {
        let fd = socket(AF_PACKET, Int32(SOCK_RAW.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw AttachTests.ToolFailure(description: "socket(AF_PACKET): \(String(cString: strerror(errno)))") }
        // struct sockaddr_ll, which Glibc's module leaves out: family, protocol, ifindex, ...
        var address = [UInt8](repeating: 0, count: 20)
        withUnsafeBytes(of: UInt16(AF_PACKET)) { address.replaceSubrange(0..<2, with: $0) }
        withUnsafeBytes(of: Int32(if_nametoindex(device))) { address.replaceSubrange(4..<8, with: $0) }
        let bound = address.withUnsafeBytes {
            bind(fd, $0.baseAddress?.assumingMemoryBound(to: sockaddr.self), socklen_t($0.count))
        }
        guard bound == 0 else {
            Glibc.close(fd)
            throw AttachTests.ToolFailure(description: "bind to \(device): \(String(cString: strerror(errno)))")
        }
        return fd
    }

    /// Sends `count` broadcast frames of type 0x88B5 on packet socket `fd`.
    static func sendFrames(_ count: Int, on fd: Int32) throws {
        var frame = [UInt8](repeating: 0xff, count: 6) + [0x02, 0, 0, 0, 0, 1] + [0x88, 0xb5]
        frame += [UInt8](repeating: 0x5a, count: 46)
        for _ in 0..<count {
            guard send(fd, frame, frame.count, 0) == frame.count else {
                throw AttachTests.ToolFailure(description: "send: \(String(cString: strerror(errno)))")
            }
        }
    }
}

/// A cgroup of the test's own under the cgroup v2 hierarchy, removed by `remove()`.
final class TestCgroup {
    let path: String

    init() throws {
        let mounts = try String(contentsOfFile: "/proc/self/mounts", encoding: .utf8)
        guard let root = mounts.split(separator: "\n").map({ $0.split(separator: " ") }).first(where: { $0.count > 2 && $0[2] == "cgroup2" }) else {
            throw AttachTests.ToolFailure(description: "no cgroup v2 hierarchy is mounted")
        }
        path = "\(root[1])/swiftbpf-test-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        guard mkdir(path, 0o755) == 0 else {
            throw AttachTests.ToolFailure(description: "mkdir \(path): \(String(cString: strerror(errno)))")
        }
    }

    /// Removes the (empty) cgroup; a process that just exited may hold it for a moment.
    func remove() {
        for _ in 0..<100 {
            if rmdir(path) == 0 || errno == ENOENT { return }
            usleep(20_000)
        }
    }
}
#endif
