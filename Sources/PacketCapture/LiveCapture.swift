#if os(Linux)
import ClassicBPF
import Glibc
import Synchronization

/// Packets from a network interface as they arrive: an AF_PACKET socket whose classic BPF
/// filter runs in the kernel, and a TPACKET_V3 ring the kernel fills without a system call
/// per packet.
///
/// ```swift
/// let capture = try LiveCapture(.init(interface: "eth0", filter: program))
/// for try await packet in capture.packets { ... }
/// capture.close()
/// ```
///
/// One thread of the capture's own walks the ring: it sleeps in poll(2) on the socket and a
/// wake-up pipe, copies each packet out and hands it to `packets`, so the cooperative pool
/// never blocks. `close()` (or cancelling the consumer) wakes it; close waits for it to end
/// before unmapping the ring and closing the socket, so no packet is read from freed memory.
public final class LiveCapture: Sendable {
    public struct Configuration: Sendable {
        /// The interface name; nil (or "any") captures on all of them with Linux cooked headers.
        public var interface: String?
        /// Runs in the kernel on every packet (compiled for a live socket, as
        /// `PacketFilter.compileForSocket` does); nil accepts all.
        public var filter: ClassicProgram?
        /// Lock the filter so it cannot be replaced or removed (SO_LOCK_FILTER).
        public var lockFilter: Bool
        /// Receive packets not addressed to this host (PACKET_MR_PROMISC).
        public var promiscuous: Bool
        /// The most bytes kept of each packet.
        public var snapshotLength: Int
        /// Bytes in a ring block: a power of two, a multiple of the page size.
        public var blockSize: Int
        public var blockCount: Int
        /// How long the kernel holds a partly filled block before handing it over, in ms.
        public var blockTimeout: Int
        /// Bytes of packets held for a slow reader; past them the ring thread waits and the
        /// kernel's ring fills (see `LivePackets`).
        public var readerBuffer: Int
        /// Received packets, sent ones or both.
        public var direction: CaptureDirection
        /// The link type to capture with, one of `LiveCapture.linkTypes(of:)`; nil: the
        /// interface's first (tcpdump -y).
        public var linkType: LinkType?

        public init(
            interface: String?, filter: ClassicProgram? = nil, lockFilter: Bool = false, promiscuous: Bool = false,
            snapshotLength: Int = 262_144, blockSize: Int = 1 << 20, blockCount: Int = 8, blockTimeout: Int = 50,
            readerBuffer: Int = 16 << 20, direction: CaptureDirection = .both, linkType: LinkType? = nil
        ) {
            self.interface = interface
            self.filter = filter
            self.lockFilter = lockFilter
            self.promiscuous = promiscuous
            self.snapshotLength = snapshotLength
            self.blockSize = blockSize
            self.blockCount = blockCount
            self.blockTimeout = blockTimeout
            self.readerBuffer = readerBuffer
            self.direction = direction
            self.linkType = linkType
        }

        /// Sizes the ring to hold about `bytes` (tcpdump -B), in blocks as small as hold one
        /// packet of `snapshotLength` with its headers (as libpcap sizes them), larger when
        /// 1024 of them would not hold it, and at least two, so that the kernel fills one
        /// while the other is read.
        public mutating func setBufferSize(_ bytes: Int) {
            let pageSize = Int(sysconf(Int32(_SC_PAGESIZE)))
            var size = pageSize
            while size < snapshotLength + 128 && size < 1 << 30 { size <<= 1 }
            while bytes / size > 1024 && size < 1 << 30 { size <<= 1 }
            blockSize = size
            blockCount = min(max(bytes / size, 2), 1024)
        }
    }

    /// The link type of the packets' bytes.
    public let linkType: LinkType
    public let configuration: Configuration
    /// The packets, in arrival order; ends after `close()`, throws if the socket fails.
    public let packets: LivePackets

    let ring: PacketRing

    public init(_ configuration: Configuration) throws(LiveCaptureError) {
        self.configuration = configuration
        // Unbounded here: the backlog's byte count bounds it.
        let (stream, continuation) = AsyncThrowingStream<[Packet], any Error>.makeStream(bufferingPolicy: .unbounded)
        let backlog = LivePackets.Backlog()
        packets = LivePackets(stream: stream, backlog: backlog)
        ring = try PacketRing(configuration, continuation, backlog: backlog)
        linkType = ring.linkType
        let ring = self.ring
        continuation.onTermination = { _ in ring.wake() }
        try ring.start()
    }

    deinit { ring.close() }

    /// The link type a capture on `interface` (nil or "any": all) would deliver, so that a
    /// filter can be compiled for it before the capture starts.
    public static func linkType(of interface: String?) throws(LiveCaptureError) -> LinkType {
        try PacketRing.linkType(of: interface).0
    }

    /// The link types a capture on `interface` can deliver, the default first (tcpdump -L):
    /// on `any`, Linux cooked headers of either version.
    public static func linkTypes(of interface: String?) throws(LiveCaptureError) -> [LinkType] {
        let first = try linkType(of: interface)
        return first == .linuxSLL2 ? [.linuxSLL2, .linuxSLL] : [first]
    }

    /// The interface tcpdump captures on when given none: the first libpcap lists (`-D`),
    /// which is one up and running and not loopback when there is one, else "any".
    public static func defaultInterface() -> String {
        InterfaceListing.current().first?.name ?? "any"
    }

    /// The interface's IFF_* flags, nil when it cannot be asked (no such interface).
    static func interfaceFlags(_ name: String) -> Int32? {
        var request = ifreq()
        let bytes = Array(name.utf8)
        guard bytes.count < MemoryLayout.size(ofValue: request.ifr_ifrn.ifrn_name) else { return nil }
        withUnsafeMutableBytes(of: &request.ifr_ifrn.ifrn_name) { $0.copyBytes(from: bytes) }
        let probe = socket(AF_INET, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard probe >= 0 else { return nil }
        defer { Glibc.close(probe) }
        guard ioctl(probe, UInt(SIOCGIFFLAGS), &request) == 0 else { return nil }
        return Int32(request.ifr_ifru.ifru_flags)
    }

    /// The kernel's counters so far (and, after `close()`, the final ones).
    public func statistics() -> CaptureStatistics { ring.statistics() }

    /// The filter the kernel runs on the socket, as it reports it (SO_GET_FILTER); nil when
    /// none is attached. On `any`, it is the cooked form of the configured filter.
    public func kernelFilter() throws(LiveCaptureError) -> ClassicProgram? { try ring.kernelFilter() }

    /// Stops the capture and releases the socket and ring; `packets` then ends. Safe to call
    /// more than once and from any thread.
    public func close() { ring.close() }
}

/// The socket, its mapped ring and the thread reading it.
final class PacketRing: @unchecked Sendable {  // mutable state under `lock`; the ring memory only touched by the reader thread
    struct State {
        var socket: Int32
        var wakeRead: Int32
        var wakeWrite: Int32
        /// The mapped ring's address (0 before mmap), kept as a number: pointers are not Sendable.
        var ring: UInt
        var thread: pthread_t?
        var statistics = CaptureStatistics()
        var closed = false
    }

    let linkType: LinkType
    let blockSize: Int
    let blockCount: Int
    let snapshotLength: Int
    let cooked: Bool
    let direction: CaptureDirection
    let continuation: AsyncThrowingStream<[Packet], any Error>.Continuation
    let backlog: LivePackets.Backlog
    let readerBuffer: Int
    /// Runs on each packet here when the kernel cannot run the filter: on cooked headers,
    /// one that reads header fields a cooked socket does not have.
    let userFilter: ClassicInterpreter?
    let lock: Mutex<State>
    /// Set by `wake()`; read by the thread after each poll.
    let stopping = Atomic<Bool>(false)

    init(_ configuration: LiveCapture.Configuration, _ continuation: AsyncThrowingStream<[Packet], any Error>.Continuation,
         backlog: LivePackets.Backlog) throws(LiveCaptureError) {
        self.continuation = continuation
        self.backlog = backlog
        readerBuffer = max(configuration.readerBuffer, 1)
        blockSize = configuration.blockSize
        blockCount = configuration.blockCount
        snapshotLength = configuration.snapshotLength
        direction = configuration.direction
        let pageSize = Int(sysconf(Int32(_SC_PAGESIZE)))
        guard blockSize >= pageSize, blockSize & (blockSize - 1) == 0, blockSize <= 1 << 30 else {
            throw LiveCaptureError(.invalidConfiguration, "block size \(blockSize) must be a power of two from the page size (\(pageSize)) to 1 GiB")
        }
        guard (1...1024).contains(blockCount) else {
            throw LiveCaptureError(.invalidConfiguration, "block count \(blockCount) must be between 1 and 1024")
        }
        // The kernel's request counts the ring's frames in 32 bits.
        guard blockSize * blockCount <= Int(UInt32.max) else {
            throw LiveCaptureError(.invalidConfiguration, "a ring of \(blockCount) blocks of \(blockSize) bytes is larger than 4 GiB")
        }
        guard (1...262_144).contains(snapshotLength) else {
            throw LiveCaptureError(.invalidConfiguration, "snapshot length \(snapshotLength) must be between 1 and 262144")
        }
        let index: UInt32
        let interfaceLinkType: LinkType
        (interfaceLinkType, index) = try Self.linkType(of: configuration.interface)
        if let wanted = configuration.linkType, wanted != interfaceLinkType {
            let offered = try LiveCapture.linkTypes(of: configuration.interface)
            guard offered.contains(wanted) else {
                throw LiveCaptureError(.invalidConfiguration, "\(wanted.pcapDescription) is not a link type this interface offers (\(offered.map(\.pcapDescription).joined(separator: ", ")))")
            }
        }
        linkType = configuration.linkType ?? interfaceLinkType
        if let name = configuration.interface, name != "any", let flags = LiveCapture.interfaceFlags(name), flags & Int32(IFF_UP) == 0 {
            throw LiveCaptureError(.interfaceDown, "the interface is not up (ip link set \(name) up)")
        }
        cooked = linkType == .linuxSLL || linkType == .linuxSLL2
        var kernelFilter = configuration.filter
        if cooked, let filter = configuration.filter {
            kernelFilter = CookedSocketFilter.kernelForm(filter, linkType: linkType)
        }
        userFilter = kernelFilter == nil ? configuration.filter.map(ClassicInterpreter.init) : nil
        // Protocol 0: nothing arrives before the filter is attached and the socket bound.
        let socketType = cooked ? Int32(SOCK_DGRAM.rawValue) : Int32(SOCK_RAW.rawValue)
        let fd = socket(AF_PACKET, socketType | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else {
            let code = Glibc.errno
            throw LiveCaptureError(code == EPERM || code == EACCES ? .permissionDenied : .system,
                                   "cannot open a packet socket: \(Self.describe(code))" + (code == EPERM || code == EACCES ? " (needs root or CAP_NET_RAW)" : ""), errno: code)
        }
        var pipeEnds: [Int32] = [-1, -1]
        guard pipe(&pipeEnds) == 0 else {
            let code = Glibc.errno
            Glibc.close(fd)
            throw LiveCaptureError(.system, "cannot create the wake-up pipe: \(Self.describe(code))", errno: code)
        }
        for end in pipeEnds {
            _ = fcntl(end, F_SETFD, FD_CLOEXEC)
            _ = fcntl(end, F_SETFL, O_NONBLOCK)
        }
        lock = Mutex(State(socket: fd, wakeRead: pipeEnds[0], wakeWrite: pipeEnds[1], ring: 0))
        do throws(LiveCaptureError) {
            try configure(fd, configuration, filter: kernelFilter, index: index)
        } catch {
            releaseAll()
            throw error
        }
    }

    /// Filter, ring, promiscuous mode, then bind: the order keeps unfiltered packets out.
    private func configure(_ fd: Int32, _ configuration: LiveCapture.Configuration, filter: ClassicProgram?, index: UInt32) throws(LiveCaptureError) {
        if let filter {
            try attach(filter, to: fd)
            if configuration.lockFilter {
                try setOption(fd, SOL_SOCKET, 44, Int32(1), "SO_LOCK_FILTER")
            }
        }
        try setOption(fd, 263, 10, Int32(2), "PACKET_VERSION TPACKET_V3")  // SOL_PACKET
        // struct tpacket_req3: block size and count, frame size and count, retire timeout,
        // private size, feature word.
        let frameSize: UInt32 = 2048
        let request: [UInt32] = [
            UInt32(blockSize), UInt32(blockCount), frameSize, UInt32(blockSize * blockCount) / frameSize,
            UInt32(max(1, configuration.blockTimeout)), 0, 0,
        ]
        try setOptionBytes(fd, 263, 5, request, "PACKET_RX_RING")
        let length = blockSize * blockCount
        let mapped = mmap(nil, length, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0)
        guard let mapped, mapped != UnsafeMutableRawPointer(bitPattern: -1) else {
            let code = Glibc.errno
            throw LiveCaptureError(.system, "cannot map the \(length)-byte ring: \(Self.describe(code))", errno: code)
        }
        storeRing(mapped)
        if configuration.promiscuous && index != 0 {
            try setOptionBytes(fd, 263, 1, Self.promiscuousMembership(index), "PACKET_ADD_MEMBERSHIP promiscuous")
        }
        let code = Self.bind(fd, index: index)
        guard code == 0 else {
            throw LiveCaptureError(code == ENODEV ? .noSuchInterface : .system,
                                   "cannot bind to \(configuration.interface ?? "all interfaces"): \(Self.describe(code))", errno: code)
        }
    }

    /// struct packet_mreq asking for PACKET_MR_PROMISC on `index`: ifindex, type, address
    /// length, address. (Its closures stay out of the typed-throws caller, see `bind`.)
    @inline(never)
    private static func promiscuousMembership(_ index: UInt32) -> [UInt8] {
        var membership = [UInt8](repeating: 0, count: 16)
        withUnsafeBytes(of: Int32(bitPattern: index)) { membership.replaceSubrange(0..<4, with: $0) }
        withUnsafeBytes(of: UInt16(1)) { membership.replaceSubrange(4..<6, with: $0) }
        return membership
    }

    /// Binds to `index` (0: every interface) for all protocols; 0 or errno. Closure-taking
    /// calls live in small non-throwing functions like this one: Swift 6.3's optimizer can let
    /// such a closure clobber the error of a typed-throws caller.
    @inline(never)
    private static func bind(_ fd: Int32, index: UInt32) -> Int32 {
        // struct sockaddr_ll: family, protocol (big-endian), ifindex, hatype, pkttype, halen, addr[8].
        var address = [UInt8](repeating: 0, count: 20)
        withUnsafeBytes(of: UInt16(AF_PACKET)) { address.replaceSubrange(0..<2, with: $0) }
        address[2] = 0x00
        address[3] = 0x03  // ETH_P_ALL
        withUnsafeBytes(of: Int32(bitPattern: index)) { address.replaceSubrange(4..<8, with: $0) }
        let result = address.withUnsafeBytes { bytes in
            Glibc.bind(fd, bytes.baseAddress?.assumingMemoryBound(to: sockaddr.self), socklen_t(bytes.count))
        }
        return result == 0 ? 0 : Glibc.errno
    }

    @inline(never)
    private func storeRing(_ mapped: UnsafeMutableRawPointer) {
        let address = UInt(bitPattern: mapped)
        lock.withLock { $0.ring = address }
    }

    private func attach(_ filter: ClassicProgram, to fd: Int32) throws(LiveCaptureError) {
        let code = Self.attachFilter(filter.bytes(order: .host), count: filter.raw.count, fd)
        guard code == 0 else {
            throw LiveCaptureError(.badFilter, "the kernel refused the \(filter.raw.count)-instruction filter: \(Self.describe(code))", errno: code)
        }
    }

    /// SO_ATTACH_FILTER with a struct sock_fprog pointing at the instructions; 0 or errno.
    @inline(never)
    private static func attachFilter(_ instructions: [UInt8], count: Int, _ fd: Int32) -> Int32 {
        instructions.withUnsafeBytes { code in
            // struct sock_fprog: a 16-bit length, padding, then the pointer.
            var program = [UInt64](repeating: 0, count: 2)
            program[0] = UInt64(count)
            program[1] = UInt64(UInt(bitPattern: code.baseAddress))
            let result = program.withUnsafeBytes { setsockopt(fd, SOL_SOCKET, SO_ATTACH_FILTER, $0.baseAddress, socklen_t(16)) }
            return result == 0 ? 0 : Glibc.errno
        }
    }

    private func setOption(_ fd: Int32, _ level: Int32, _ name: Int32, _ value: Int32, _ what: String) throws(LiveCaptureError) {
        try setOptionBytes(fd, level, name, [value], what)
    }

    private func setOptionBytes<T>(_ fd: Int32, _ level: Int32, _ name: Int32, _ value: [T], _ what: String) throws(LiveCaptureError) {
        let code = Self.setsockoptErrno(fd, level, name, value)
        guard code == 0 else {
            throw LiveCaptureError(code == EPERM ? .permissionDenied : .system, "setsockopt \(what): \(Self.describe(code))", errno: code)
        }
    }

    @inline(never)
    private static func setsockoptErrno<T>(_ fd: Int32, _ level: Int32, _ name: Int32, _ value: [T]) -> Int32 {
        let result = value.withUnsafeBytes { setsockopt(fd, level, name, $0.baseAddress, socklen_t($0.count)) }
        return result == 0 ? 0 : Glibc.errno
    }

    /// The link type a capture on `interface` delivers, and the interface index (0 for all).
    /// Ethernet-framed devices (loopback too) give whole frames; tunnels without a link
    /// header give bare IP; anything else gets Linux cooked headers, and all interfaces at
    /// once the second version (SLL2, which names the interface), as libpcap 1.10 gives.
    static func linkType(of interface: String?) throws(LiveCaptureError) -> (LinkType, UInt32) {
        guard let name = interface, name != "any" else { return (.linuxSLL2, 0) }
        guard name.utf8.count < 16, !name.contains("/") else {
            throw LiveCaptureError(.noSuchInterface, "no interface named \(name)")
        }
        let index = if_nametoindex(name)
        guard index != 0 else {
            throw LiveCaptureError(.noSuchInterface, "no interface named \(name)", errno: Glibc.errno)
        }
        switch hardwareType(name) {
        case 1, 772: return (.ethernet, index)
        case 0xfffe: return (.raw, index)
        default: return (.linuxSLL, index)
        }
    }

    /// The interface's ARPHRD_* type from sysfs; 0 when it cannot be read.
    static func hardwareType(_ name: String) -> Int {
        guard !name.contains("/") else { return 0 }
        let fd = open("/sys/class/net/\(name)/type", O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return 0 }
        defer { Glibc.close(fd) }
        var buffer = [UInt8](repeating: 0, count: 16)
        let count = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
        guard count > 0 else { return 0 }
        return Int(String(decoding: buffer[..<count], as: UTF8.self).filter(\.isNumber)) ?? 0
    }

    static func describe(_ code: Int32) -> String {
        guard let text = strerror(code) else { return "errno \(code)" }
        return String(cString: text)
    }

    // MARK: The reader thread

    func start() throws(LiveCaptureError) {
        let code = Self.spawn(self)
        guard code == 0 else {
            releaseAll()
            throw LiveCaptureError(.system, "cannot start the capture thread: \(Self.describe(code))", errno: code)
        }
    }

    @inline(never)
    private static func spawn(_ ring: PacketRing) -> Int32 {
        var thread = pthread_t()
        let context = Unmanaged.passRetained(ring).toOpaque()
        let code = pthread_create(&thread, nil, { context in
            guard let context else { return nil }
            let ring = Unmanaged<PacketRing>.fromOpaque(context).takeRetainedValue()
            ring.readLoop()
            return nil
        }, context)
        if code != 0 {
            Unmanaged<PacketRing>.fromOpaque(context).release()
            return code
        }
        ring.lock.withLock { $0.thread = thread }
        return 0
    }

    /// Walks the ring's blocks in order, waiting in poll(2) when the next one is the kernel's.
    func readLoop() {
        let (fd, wake, address) = lock.withLock { state in (state.socket, state.wakeRead, state.ring) }
        guard let base = UnsafeMutableRawPointer(bitPattern: address) else {
            continuation.finish()
            return
        }
        var block = 0
        while !stopping.load(ordering: .acquiring) {
            let header = base + block * blockSize
            let status = header.load(fromByteOffset: 8, as: UInt32.self)
            atomicMemoryFence(ordering: .acquiring)
            if status & 1 == 0 {  // TP_STATUS_USER not set: wait
                var fds = [pollfd(fd: fd, events: Int16(POLLIN), revents: 0), pollfd(fd: wake, events: Int16(POLLIN), revents: 0)]
                let ready = poll(&fds, 2, -1)
                if ready < 0 && Glibc.errno != EINTR {
                    continuation.finish(throwing: LiveCaptureError(.system, "poll on the packet socket: \(Self.describe(Glibc.errno))", errno: Glibc.errno))
                    return
                }
                if fds[0].revents & Int16(POLLERR) != 0 {
                    var code: Int32 = 0
                    var size = socklen_t(4)
                    getsockopt(fd, SOL_SOCKET, SO_ERROR, &code, &size)
                    continuation.finish(throwing: LiveCaptureError(.system, "the packet socket failed: \(Self.describe(code))", errno: code))
                    return
                }
                continue
            }
            deliver(block: header)
            atomicMemoryFence(ordering: .releasing)
            header.storeBytes(of: UInt32(0), toByteOffset: 8, as: UInt32.self)  // back to TP_STATUS_KERNEL
            block = (block + 1) % blockCount
        }
        continuation.finish()
    }

    /// Copies out every packet of a block the kernel handed over.
    private func deliver(block header: UnsafeMutableRawPointer) {
        let count = Int(header.load(fromByteOffset: 12, as: UInt32.self))
        var offset = Int(header.load(fromByteOffset: 16, as: UInt32.self))
        var batch: [Packet] = []
        batch.reserveCapacity(count)
        var batchBytes = 0
        for _ in 0..<count {
            guard offset > 0, offset + 48 <= blockSize else { break }
            let packet = header + offset
            let packetHeader = PacketHeader(packet)
            // sockaddr_ll follows the header, with the packet's type and the interface's.
            if !direction.keeps(packetType: packet.load(fromByteOffset: 48 + 10, as: UInt8.self),
                                hardwareType: packet.loadUnaligned(fromByteOffset: 48 + 8, as: UInt16.self)) {
                let next = Int(packetHeader.nextOffset)
                if next == 0 { break }
                offset += next
                continue
            }
            guard Int(packetHeader.mac) + Int(packetHeader.snapshotLength) <= blockSize - offset else { break }
            var data = [UInt8](UnsafeRawBufferPointer(start: packet + Int(packetHeader.mac), count: Int(packetHeader.snapshotLength)))
            var length = Int(packetHeader.length)
            if cooked {
                let header = linkType == .linuxSLL2 ? Self.cookedHeaderV2(packet + 48) : Self.cookedHeader(packet + 48)
                data.insert(contentsOf: header, at: 0)
                length += header.count
            } else if linkType == .ethernet, packetHeader.status & 0x10 != 0, data.count >= 12 {
                // The kernel took the VLAN tag out of the frame (TP_STATUS_VLAN_VALID); put it back.
                let protocolID = packetHeader.status & 0x40 != 0 ? packetHeader.vlanProtocol : 0x8100
                data.insert(contentsOf: [UInt8(protocolID >> 8), UInt8(protocolID & 0xff), UInt8(packetHeader.vlanTCI >> 8 & 0xff), UInt8(packetHeader.vlanTCI & 0xff)], at: 12)
                length += 4
            }
            if data.count > snapshotLength { data.removeLast(data.count - snapshotLength) }
            if let userFilter, Self.rejects(userFilter, data, length) {
                let next = Int(packetHeader.nextOffset)
                if next == 0 { break }
                offset += next
                continue
            }
            let timestamp = Int64(packetHeader.seconds) * 1_000_000_000 + Int64(packetHeader.nanoseconds)
            batchBytes += data.count
            batch.append(Packet(timestamp: timestamp, originalLength: length, data: data, linkType: linkType))
            let next = Int(packetHeader.nextOffset)
            if next == 0 { break }
            offset += next
        }
        guard !batch.isEmpty else { return }
        // A block's packets go over together: one hand-over, not one a packet.
        waitForTheReader(batchBytes)
        if case .enqueued = continuation.yield(batch) {
            backlog.bytes.add(batchBytes, ordering: .relaxed)
            lock.withLock { state in state.statistics.delivered += UInt64(batch.count) }
        }
    }

    /// Waits while the reader has `readerBuffer` bytes or more still to take (one block
    /// always goes), holding the block, so that the kernel's ring fills instead; stops
    /// waiting when the capture stops.
    private func waitForTheReader(_ count: Int) {
        while backlog.bytes.load(ordering: .relaxed) + count > readerBuffer,
              backlog.bytes.load(ordering: .relaxed) > 0,
              !stopping.load(ordering: .relaxed) {
            usleep(1000)
        }
    }

    @inline(never)
    static func rejects(_ filter: ClassicInterpreter, _ data: [UInt8], _ length: Int) -> Bool {
        data.withUnsafeBytes { filter.run(packet: $0, wireLength: UInt32(truncatingIfNeeded: length)) == 0 }
    }

    /// The 16-byte SLL header libpcap writes for cooked captures, from the ring's sockaddr_ll.
    static func cookedHeader(_ address: UnsafeMutableRawPointer) -> [UInt8] {
        let protocolID = UInt16(bigEndian: address.loadUnaligned(fromByteOffset: 2, as: UInt16.self))
        let hardwareType = address.loadUnaligned(fromByteOffset: 8, as: UInt16.self)
        let packetType = address.load(fromByteOffset: 10, as: UInt8.self)
        let addressLength = min(Int(address.load(fromByteOffset: 11, as: UInt8.self)), 8)
        var header: [UInt8] = [0, packetType, UInt8(hardwareType >> 8), UInt8(hardwareType & 0xff), 0, UInt8(addressLength)]
        for index in 0..<8 { header.append(index < addressLength ? address.load(fromByteOffset: 12 + index, as: UInt8.self) : 0) }
        header += [UInt8(protocolID >> 8), UInt8(protocolID & 0xff)]
        return header
    }

    /// The 20-byte SLL2 header libpcap writes for `any`: protocol, a reserved zero, the
    /// interface index, hardware type, packet type and address, from the ring's sockaddr_ll.
    static func cookedHeaderV2(_ address: UnsafeMutableRawPointer) -> [UInt8] {
        let protocolID = UInt16(bigEndian: address.loadUnaligned(fromByteOffset: 2, as: UInt16.self))
        let interfaceIndex = UInt32(bitPattern: address.loadUnaligned(fromByteOffset: 4, as: Int32.self))
        let hardwareType = address.loadUnaligned(fromByteOffset: 8, as: UInt16.self)
        let packetType = address.load(fromByteOffset: 10, as: UInt8.self)
        let addressLength = min(Int(address.load(fromByteOffset: 11, as: UInt8.self)), 8)
        var header: [UInt8] = [UInt8(protocolID >> 8), UInt8(protocolID & 0xff), 0, 0]
        header += [UInt8(interfaceIndex >> 24), UInt8(interfaceIndex >> 16 & 0xff), UInt8(interfaceIndex >> 8 & 0xff), UInt8(interfaceIndex & 0xff)]
        header += [UInt8(hardwareType >> 8), UInt8(hardwareType & 0xff), packetType, UInt8(addressLength)]
        for index in 0..<8 { header.append(index < addressLength ? address.load(fromByteOffset: 12 + index, as: UInt8.self) : 0) }
        return header
    }

    // MARK: Statistics and closing

    func statistics() -> CaptureStatistics {
        lock.withLock { state in
            Self.readKernelCounters(&state)
            return state.statistics
        }
    }

    /// PACKET_STATISTICS resets the kernel's counters on each read, so they are added up.
    private static func readKernelCounters(_ state: inout State) {
        guard !state.closed else { return }
        var counters: [UInt32] = [0, 0, 0]  // struct tpacket_stats_v3
        var size = socklen_t(12)
        let result = counters.withUnsafeMutableBytes { getsockopt(state.socket, 263, 6, $0.baseAddress, &size) }
        guard result == 0 else { return }
        state.statistics.received += UInt64(counters[0])
        state.statistics.droppedByKernel += UInt64(counters[1])
    }

    func kernelFilter() throws(LiveCaptureError) -> ClassicProgram? {
        guard let reply = readFilter() else {
            throw LiveCaptureError(.system, "cannot read the kernel's filter: the capture is closed")
        }
        guard reply.errno == 0 else {
            throw LiveCaptureError(.system, "cannot read the kernel's filter: \(Self.describe(reply.errno))", errno: reply.errno)
        }
        guard !reply.bytes.isEmpty else { return nil }
        do {
            return try ClassicProgram(bytes: reply.bytes, order: .host)
        } catch {
            throw LiveCaptureError(.badFilter, "the kernel reported a filter that does not validate: \(error)")
        }
    }

    /// The socket's filter by SO_GET_FILTER (no bytes: none) or errno; nil once closed.
    /// Its closures stay out of the typed-throws caller (see `bind`).
    @inline(never)
    private func readFilter() -> (bytes: [UInt8], errno: Int32)? {
        lock.withLock { state in
            guard !state.closed else { return nil }
            // Asked and answered in instructions, at most BPF_MAXINSNS (4096) of 8 bytes.
            var buffer = [UInt8](repeating: 0, count: 4096 * 8)
            var length = socklen_t(4096)
            let result = buffer.withUnsafeMutableBytes { getsockopt(state.socket, SOL_SOCKET, SO_ATTACH_FILTER, $0.baseAddress, &length) }
            guard result == 0 else { return ([], Glibc.errno) }
            return (Array(buffer[..<(min(Int(length), 4096) * 8)]), 0)
        }
    }

    /// Tells the reader thread to stop; it finishes `packets` on its way out.
    func wake() {
        stopping.store(true, ordering: .releasing)
        let fd = lock.withLock { $0.closed ? -1 : $0.wakeWrite }
        if fd >= 0 {
            var byte: UInt8 = 1
            _ = write(fd, &byte, 1)
        }
    }

    func close() {
        wake()
        let thread = lock.withLock { state -> pthread_t? in
            defer { state.thread = nil }
            return state.thread
        }
        if let thread, pthread_equal(thread, pthread_self()) == 0 {
            pthread_join(thread, nil)
        } else if let thread {
            pthread_detach(thread)
        }
        releaseAll()
        continuation.finish()
    }

    /// Final counters, then the ring, the socket and the pipe.
    private func releaseAll() {
        lock.withLock { state in
            guard !state.closed else { return }
            Self.readKernelCounters(&state)
            if let ring = UnsafeMutableRawPointer(bitPattern: state.ring) { munmap(ring, blockSize * blockCount) }
            Glibc.close(state.socket)
            Glibc.close(state.wakeRead)
            Glibc.close(state.wakeWrite)
            state.ring = 0
            state.closed = true
        }
    }
}

/// The fields of a struct tpacket3_hdr.
struct PacketHeader {
    let nextOffset: UInt32
    let seconds: UInt32
    let nanoseconds: UInt32
    let snapshotLength: UInt32
    let length: UInt32
    let status: UInt32
    let mac: UInt16
    let vlanTCI: UInt32
    let vlanProtocol: UInt16

    init(_ pointer: UnsafeMutableRawPointer) {
        nextOffset = pointer.load(fromByteOffset: 0, as: UInt32.self)
        seconds = pointer.load(fromByteOffset: 4, as: UInt32.self)
        nanoseconds = pointer.load(fromByteOffset: 8, as: UInt32.self)
        snapshotLength = pointer.load(fromByteOffset: 12, as: UInt32.self)
        length = pointer.load(fromByteOffset: 16, as: UInt32.self)
        status = pointer.load(fromByteOffset: 20, as: UInt32.self)
        mac = pointer.load(fromByteOffset: 24, as: UInt16.self)
        vlanTCI = pointer.load(fromByteOffset: 32, as: UInt32.self)
        vlanProtocol = pointer.load(fromByteOffset: 36, as: UInt16.self)
    }
}
#endif
