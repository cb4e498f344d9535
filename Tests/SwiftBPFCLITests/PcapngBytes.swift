/// A little-endian pcapng file built block by block for a test: a section header, then
/// interface descriptions and enhanced packet blocks in the order they are added.
struct PcapngBytes {
    private(set) var bytes: [UInt8] = []

    init() { words([0x0A0D_0D0A, 28, 0x1A2B_3C4D, 1, 0xffff_ffff, 0xffff_ffff, 28]) }

    mutating func interface(linkType: UInt32 = 1, snapshotLength: UInt32) { words([1, 20, linkType, snapshotLength, 20]) }

    /// An enhanced packet block of `frame` whole, on `interface` (its place among the descriptions).
    mutating func packet(interface: UInt32, _ frame: [UInt8]) {
        let padded = frame + [UInt8](repeating: 0, count: (4 - frame.count % 4) % 4)
        words([6, UInt32(32 + padded.count), interface, 0, 1_000_000, UInt32(frame.count), UInt32(frame.count)])
        bytes += padded
        words([UInt32(32 + padded.count)])
    }

    private mutating func words(_ values: [UInt32]) {
        for value in values { withUnsafeBytes(of: value.littleEndian) { bytes += $0 } }
    }
}
