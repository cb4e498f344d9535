/// One call frame's 512-byte stack, byte by byte: never written, holding some number,
/// known zero, or part of a spilled register. A register spilled whole to an aligned
/// 8-byte slot is kept exactly, so that a pointer or a range survives the round trip.
struct StackState: Hashable, Sendable {
    static let size = 512

    enum Byte: UInt8, Hashable, Sendable { case invalid, misc, zero, spill }

    /// Index 0 is the byte at fp-512, index 511 the byte at fp-1.
    var bytes = [Byte](repeating: .invalid, count: size)
    /// Slot index (byte index / 8) -> the register spilled there.
    var spills: [Int: Value] = [:]
    /// The deepest byte used, counted from the frame pointer.
    var depth = 0

    static func index(ofOffset offset: Int) -> Int { offset + size }

    /// Writes `size` bytes at fp+offset: a whole spill when it is an aligned 8-byte store of a
    /// register, otherwise plain bytes (a stored zero stays known).
    mutating func write(offset: Int, size: Int, value: Value?) {
        let start = StackState.index(ofOffset: offset)
        depth = max(depth, -offset)
        if size == 8, start % 8 == 0, let value {
            // Replaces whatever the slot held.
            for i in start..<start + 8 { bytes[i] = .spill }
            spills[start / 8] = value
            return
        }
        for slot in start / 8...(start + size - 1) / 8 where spills[slot] != nil {
            spills[slot] = nil
            for i in slot * 8..<slot * 8 + 8 where bytes[i] == .spill { bytes[i] = .misc }
        }
        let zero = value?.scalar?.constantValue == 0
        for i in start..<start + size { bytes[i] = zero ? .zero : .misc }
    }

    /// Whether every byte of [offset, offset+size) has been written.
    func isInitialized(offset: Int, size: Int) -> Bool {
        let start = StackState.index(ofOffset: offset)
        return (start..<start + size).allSatisfy { bytes[$0] != .invalid }
    }

    /// What reading `size` bytes at fp+offset gives; nil for a partial read of a spilled pointer.
    func read(offset: Int, size: Int) -> Value? {
        let start = StackState.index(ofOffset: offset)
        if let spilled = spills[start / 8], bytes[start] == .spill {
            if size == 8 && start % 8 == 0 { return spilled }
            if case .pointer = spilled { return nil }
            return .unknownScalar
        }
        if (start..<start + size).allSatisfy({ bytes[$0] == .zero }) { return .scalar(.constant(0)) }
        return .unknownScalar
    }

    /// The slot of a register spilled whole at fp+offset, if one is.
    func spilledSlot(at offset: Int) -> Int? {
        let start = StackState.index(ofOffset: offset)
        guard start % 8 == 0, bytes[start] == .spill, spills[start / 8] != nil else { return nil }
        return start / 8
    }

    /// Marks bytes as written by a helper (their content unknown).
    mutating func markWritten(offset: Int, size: Int) {
        write(offset: offset, size: size, value: nil)
    }
}
