import BPFInstructions

/// A pcapng section header block. Each section has its own byte order and its own
/// interfaces, numbered from 0 inside the section.
public struct PcapngSection: Sendable, Hashable {
    public var byteOrder: ByteOrder
    public var versionMajor: UInt16
    public var versionMinor: UInt16
    /// Bytes in the section after this header, or -1 when the writer did not know.
    public var sectionLength: Int64
    public var options: [CaptureOption]
    /// Offset of the section header block in the file.
    public var offset: Int
    /// Index in `CaptureReader.interfaces` of the section's interface 0.
    public var firstInterfaceIndex: Int
}

/// pcapng block types the reader acts on; the rest (name resolution, interface
/// statistics, decryption secrets, custom blocks, ...) are skipped by their length.
enum BlockType {
    static let sectionHeader: UInt32 = 0x0a0d_0d0a
    static let interfaceDescription: UInt32 = 1
    static let obsoletePacket: UInt32 = 2
    static let simplePacket: UInt32 = 3
    static let enhancedPacket: UInt32 = 6
    static let byteOrderMagic: UInt32 = 0x1a2b_3c4d

    static func name(_ type: UInt32) -> String {
        switch type {
        case sectionHeader: "section header block"
        case interfaceDescription: "interface description block"
        case obsoletePacket: "packet block"
        case simplePacket: "simple packet block"
        case 4: "name resolution block"
        case 5: "interface statistics block"
        case enhancedPacket: "enhanced packet block"
        case 0x0a: "decryption secrets block"
        case 0x0bad, 0x4000_0bad: "custom block"
        default: "block of type 0x\(String(type, radix: 16))"
        }
    }

    static func holdsPacket(_ type: UInt32) -> Bool {
        type == enhancedPacket || type == simplePacket || type == obsoletePacket
    }
}
