/// Reads through a socket pointer: the fields of `struct bpf_sock` (uapi linux/bpf.h) a
/// program may load, and with what sizes, as the kernel's bpf_sock_is_valid_access allows.
/// Nothing may be written.
enum SocketAccess {
    /// The size of `struct bpf_sock`.
    static let size = 80

    /// Fields that may also be read in narrower power-of-two parts, anywhere inside them:
    /// src_ip4, src_ip6[4], dst_ip4, dst_ip6[4].
    private static let narrowRanges = [24..<28, 28..<44, 52..<56, 56..<72]
    /// Fields that may also be read in narrower parts, but only from their first byte:
    /// family, type, protocol, src_port, state, rx_queue_mapping.
    private static let narrowAtStart: Set<Int> = [4, 8, 12, 44, 72, 76]
    /// dst_port: a 2-byte big-endian port in a 4-byte slot (the rest is padding).
    private static let destinationPort = 48..<50
    /// type, protocol, mark and priority are not in `struct sock_common`.
    private static let notInCommon = 8..<24

    /// Why a `size`-byte read at `offset` is refused, or nil when it is allowed.
    static func denial(_ socket: SocketKind, offset: Int, size: Int) -> String? {
        guard offset >= 0, offset < Self.size else { return "is outside struct bpf_sock (\(Self.size) bytes)" }
        guard offset % size == 0 else { return "is not aligned to its size" }
        if socket == .common && notInCommon.contains(offset) {
            return "reads a field (type, protocol, mark or priority) that a sock_common pointer does not have; check for a full socket first"
        }
        let narrow = size <= 4 && size & (size - 1) == 0
        if narrowRanges.contains(where: { $0.contains(offset) }) || narrowAtStart.contains(offset) {
            return narrow ? nil : "is wider than the 4-byte field"
        }
        if destinationPort.contains(offset) {
            return size == 4 && offset == 48 || size <= 2 && narrow ? nil : "does not fit dst_port (2 bytes, or 4 with its padding)"
        }
        if offset == 50 || offset == 51 { return "reads the padding after dst_port" }
        return size == 4 ? nil : "must read the whole 4-byte field"
    }
}
