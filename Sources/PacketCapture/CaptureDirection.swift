/// Which packets a live capture keeps, by the way they crossed the interface (tcpdump -Q).
public enum CaptureDirection: String, Sendable, CaseIterable {
    case incoming = "in"
    case outgoing = "out"
    case both = "inout"

    /// Whether to keep a packet whose sockaddr_ll has `packetType` (sll_pkttype) and
    /// `hardwareType` (sll_hatype). Loopback shows each packet twice, leaving and arriving;
    /// as libpcap does, only the arrival is kept, so `out` sees nothing there.
    func keeps(packetType: UInt8, hardwareType: UInt16) -> Bool {
        let outgoing = packetType == 4  // PACKET_OUTGOING
        if outgoing && hardwareType == 772 { return false }  // ARPHRD_LOOPBACK
        switch self {
        case .incoming: return !outgoing
        case .outgoing: return outgoing
        case .both: return true
        }
    }
}
