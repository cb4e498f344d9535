/// How long one timestamp unit is: 10^-n or 2^-n seconds (pcapng's `if_tsresol`).
/// pcap files are `.microseconds` or `.nanoseconds`, chosen by their magic number.
public enum TimestampResolution: Sendable, Hashable, CustomStringConvertible {
    /// Units of 10^-n seconds, n in 0...19 (10^19 is the largest power of ten in 64 bits).
    case decimal(UInt8)
    /// Units of 2^-n seconds, n in 0...63.
    case binary(UInt8)

    public static let microseconds = TimestampResolution.decimal(6)
    public static let nanoseconds = TimestampResolution.decimal(9)

    /// From the `if_tsresol` byte: high bit set for binary, the rest is the exponent.
    /// Nil when the exponent needs more than 64 bits of units per second.
    public init?(optionValue: UInt8) {
        let exponent = optionValue & 0x7f
        if optionValue & 0x80 != 0 {
            guard exponent <= 63 else { return nil }
            self = .binary(exponent)
        } else {
            guard exponent <= 19 else { return nil }
            self = .decimal(exponent)
        }
    }

    /// The `if_tsresol` byte for this resolution.
    public var optionValue: UInt8 {
        switch self {
        case .decimal(let n): n & 0x7f
        case .binary(let n): 0x80 | (n & 0x7f)
        }
    }

    /// Units in one second; exponents past the 64-bit range saturate.
    public var unitsPerSecond: UInt64 {
        switch self {
        case .decimal(let n):
            var units: UInt64 = 1
            for _ in 0..<min(n, 19) { units *= 10 }
            return units
        case .binary(let n):
            return 1 << UInt64(min(n, 63))
        }
    }

    public var description: String {
        switch self {
        case .decimal(let n): "10^-\(n) s"
        case .binary(let n): "2^-\(n) s"
        }
    }
}

/// Turns an interface's raw timestamp units into nanoseconds since the epoch. Built once per
/// interface so the per-packet work is a division and a multiplication.
struct TimestampClock: Sendable {
    let unitsPerSecond: UInt64
    /// Nanoseconds per unit when a unit is a whole number of nanoseconds, else 0.
    let nanosecondsPerUnit: UInt64
    let offsetSeconds: Int64

    init(resolution: TimestampResolution, offsetSeconds: Int64) {
        unitsPerSecond = resolution.unitsPerSecond
        nanosecondsPerUnit = 1_000_000_000 % unitsPerSecond == 0 ? 1_000_000_000 / unitsPerSecond : 0
        self.offsetSeconds = offsetSeconds
    }

    /// Nanoseconds since the epoch for `units`, truncated as libpcap truncates, and whether
    /// it had to be clamped to the range of `Int64` (about 1678 to 2262).
    func nanoseconds(_ units: UInt64) -> (value: Int64, clamped: Bool) {
        // Whole nanosecond units and no offset, the usual case: one multiplication.
        if nanosecondsPerUnit != 0 && offsetSeconds == 0 {
            let (product, overflow) = units.multipliedReportingOverflow(by: nanosecondsPerUnit)
            if !overflow, let value = Int64(exactly: product) { return (value, false) }
        }
        let seconds = units / unitsPerSecond
        let fraction = units % unitsPerSecond
        let nanoseconds: UInt64
        if nanosecondsPerUnit != 0 {
            nanoseconds = fraction * nanosecondsPerUnit
        } else {
            // fraction < unitsPerSecond, so the quotient is below 10^9 and fits.
            let product = fraction.multipliedFullWidth(by: 1_000_000_000)
            nanoseconds = unitsPerSecond.dividingFullWidth((product.high, product.low)).quotient
        }
        let total = (Int128(seconds) + Int128(offsetSeconds)) * 1_000_000_000 + Int128(nanoseconds)
        if let value = Int64(exactly: total) { return (value, false) }
        return (total < 0 ? .min : .max, true)
    }
}
