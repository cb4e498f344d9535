/// A span of host memory a program may access: its input, a stack frame, or memory a
/// helper handed out. Addresses are host addresses, as eBPF pointers are.
public struct MemoryRegion: Sendable, Hashable {
    public var name: String
    public var start: UInt64
    public var count: Int
    public var isWritable: Bool

    public init(name: String, start: UInt64, count: Int, isWritable: Bool = true) {
        self.name = name
        self.start = start
        self.count = count
        self.isWritable = isWritable
    }

    public init(name: String, buffer: UnsafeMutableRawBufferPointer, isWritable: Bool = true) {
        self.init(name: name, start: UInt64(UInt(bitPattern: buffer.baseAddress)), count: buffer.count,
                  isWritable: isWritable)
    }

    /// Whether `size` bytes at `address` lie wholly inside, without overflow.
    @inline(__always)
    func contains(_ address: UInt64, size: Int) -> Bool {
        let delta = address &- start
        return delta < UInt64(count) && UInt64(count) &- delta >= UInt64(size)
    }
}
