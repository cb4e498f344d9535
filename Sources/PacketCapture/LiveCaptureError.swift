/// Why a live capture could not start or stopped: the system call and what it said.
public struct LiveCaptureError: Error, Sendable, Hashable, CustomStringConvertible {
    public enum Kind: Sendable, Hashable {
        /// No interface by that name.
        case noSuchInterface
        /// The interface is down: nothing would arrive.
        case interfaceDown
        /// Packet sockets need root or CAP_NET_RAW.
        case permissionDenied
        /// The kernel refused the filter program.
        case badFilter
        /// A configuration value out of range (block size, block count, snapshot length).
        case invalidConfiguration
        /// Any other failure of a system call.
        case system
        /// Live capture needs Linux.
        case unsupported
    }

    public var kind: Kind
    public var message: String
    /// The errno of the failing call, when there was one.
    public var errno: Int32?

    public init(_ kind: Kind, _ message: String, errno: Int32? = nil) {
        self.kind = kind
        self.message = message
        self.errno = errno
    }

    public var description: String { message }
}

/// Counters of a live capture, as libpcap's `pcap_stats` reports them.
public struct CaptureStatistics: Sendable, Hashable {
    /// Packets the kernel filter accepted, including those it then had to drop.
    public var received: UInt64
    /// Packets accepted by the filter but dropped because the ring was full.
    public var droppedByKernel: UInt64
    /// Packets handed to the reader.
    public var delivered: UInt64

    public init(received: UInt64 = 0, droppedByKernel: UInt64 = 0, delivered: UInt64 = 0) {
        self.received = received
        self.droppedByKernel = droppedByKernel
        self.delivered = delivered
    }
}
