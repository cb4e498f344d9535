import ClassicBPF

/// A filter for a live Linux packet socket (AF_PACKET), and where it must run to keep
/// the packets libpcap's live filter keeps.
///
/// Linux takes the outer VLAN tag out of a received frame (into skb->vlan_tci) before a
/// socket filter runs, so a program that reads the tag from the frame, as one for capture
/// files does, never sees it there. libpcap reads the tag through the ancillary loads
/// instead; this compiler does not generate those yet, so a filter that reads VLAN tags
/// runs in user space, on each frame with its tag put back (as `LiveCapture` delivers
/// frames), and the kernel keeps every packet.
public struct SocketFilter: Sendable {
    /// The filter over frames as a capture delivers them, any VLAN tag in place.
    public var program: ClassicProgram
    /// False when `program` reads VLAN tags: then it must run in user space.
    public var runsInKernel: Bool

    public init(program: ClassicProgram, runsInKernel: Bool) {
        self.program = program
        self.runsInKernel = runsInKernel
    }
}
