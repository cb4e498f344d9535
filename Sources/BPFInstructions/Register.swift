/// One of the eleven eBPF registers: r0 (return value), r1–r5 (arguments),
/// r6–r9 (callee-saved) and r10 (read-only frame pointer).
public struct Register: RawRepresentable, Hashable, Comparable, Sendable, CustomStringConvertible {
    public let rawValue: UInt8

    public init?(rawValue: UInt8) {
        guard rawValue <= 10 else { return nil }
        self.rawValue = rawValue
    }

    /// Only for the literal registers below, whose numbers are known to be valid.
    private init(_ number: UInt8) { rawValue = number }

    public static let r0 = Register(0), r1 = Register(1), r2 = Register(2), r3 = Register(3)
    public static let r4 = Register(4), r5 = Register(5), r6 = Register(6), r7 = Register(7)
    public static let r8 = Register(8), r9 = Register(9), r10 = Register(10)
    /// The frame pointer: r10.
    public static let framePointer = r10

    public static let all: [Register] = [r0, r1, r2, r3, r4, r5, r6, r7, r8, r9, r10]

    public var description: String { "r\(rawValue)" }

    public static func < (lhs: Register, rhs: Register) -> Bool { lhs.rawValue < rhs.rawValue }
}
