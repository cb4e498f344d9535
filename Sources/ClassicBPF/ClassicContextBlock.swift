/// How the eBPF translation for our VM (`ClassicTranslationTarget.virtualMachine`) gets what
/// a classic program reads besides the packet: the VM's input memory is this 72-byte block
/// followed by the packet's bytes; r1 points to the block, r2 holds the whole length. All
/// fields are host byte order; the header offsets are -1 when unset.
///
///     offset  field                      offset  field
///          0  wire length (#len)              36  VLAN tag
///          4  protocol                        40  VLAN tag present (0 or 1)
///          8  packet type                     44  VLAN protocol
///         12  interface index                 48  payload offset
///         16  mark                            52  random
///         20  queue                           56  network header offset (64-bit)
///         24  hardware type                   64  link-layer header offset (64-bit)
///         28  receive hash
///         32  CPU
public enum ClassicContextBlock {
    public static let size = 72
    public static let wireLengthOffset = 0
    public static let networkHeaderOffset = 56
    public static let linkLayerHeaderOffset = 64

    /// Where the block holds `field`, for the fields that are plain values.
    public static func offset(of field: AncillaryField) -> Int? {
        switch field {
        case .protocol: 4
        case .packetType: 8
        case .interfaceIndex: 12
        case .mark: 16
        case .queue: 20
        case .hardwareType: 24
        case .receiveHash: 28
        case .cpu: 32
        case .vlanTag: 36
        case .vlanTagPresent: 40
        case .vlanProtocol: 44
        case .payloadOffset: 48
        case .random: 52
        case .netlinkAttribute, .nestedNetlinkAttribute, .xorX: nil
        }
    }

    /// The VM's input memory for one packet: the block, then the packet.
    public static func memory(packet: [UInt8], wireLength: UInt32? = nil, ancillary: AncillaryData? = nil) -> [UInt8] {
        var memory = [UInt8](repeating: 0, count: size)
        memory.reserveCapacity(size + packet.count)
        func put<T: FixedWidthInteger>(_ value: T, at offset: Int) {
            withUnsafeBytes(of: value) { bytes in
                for (index, byte) in bytes.enumerated() { memory[offset + index] = byte }
            }
        }
        put(wireLength ?? UInt32(truncatingIfNeeded: packet.count), at: wireLengthOffset)
        let data = ancillary ?? AncillaryData()
        for field in AncillaryField.allCases {
            if let offset = offset(of: field) { put(data.value(of: field), at: offset) }
        }
        put(data.networkHeaderOffset.map(Int64.init) ?? -1, at: networkHeaderOffset)
        put(data.linkLayerHeaderOffset.map(Int64.init) ?? -1, at: linkLayerHeaderOffset)
        memory += packet
        return memory
    }
}
