import Foundation

/// How a packet line begins, chosen as tcpdump chooses it by how many times -t is given:
/// none the time of day, -t nothing, -tt seconds since 1970, -ttt the time since the
/// previous packet, -tttt the date and time of day, -ttttt the time since the first packet.
struct TimestampStyle {
    enum Kind { case clock, none, epoch, sincePrevious, dateAndClock, sinceFirst }
    let kind: Kind
    private var first: Int64?
    private var previous: Int64?

    init(tCount: Int) {
        kind = switch tCount {
        case 0: .clock
        case 1: .none
        case 2: .epoch
        case 3: .sincePrevious
        case 4: .dateAndClock
        default: .sinceFirst
        }
    }

    /// The text before the packet's line, with its trailing space ("" for none).
    mutating func prefix(_ nanoseconds: Int64) -> String {
        defer {
            if first == nil { first = nanoseconds }
            previous = nanoseconds
        }
        switch kind {
        case .clock: return PacketOutput.time(nanoseconds) + " "
        case .none: return ""
        case .epoch:
            let (seconds, fraction) = Self.split(nanoseconds)
            return "\(seconds).\(Self.six(fraction)) "
        case .sincePrevious: return Self.duration(Self.difference(nanoseconds, previous ?? nanoseconds)) + " "
        case .sinceFirst: return Self.duration(Self.difference(nanoseconds, first ?? nanoseconds)) + " "
        case .dateAndClock:
            var clock = time_t(Self.split(nanoseconds).seconds)
            var local = tm()
            guard localtime_r(&clock, &local) != nil else { return PacketOutput.time(nanoseconds) + " " }
            let year = Int(local.tm_year) + 1900
            return "\(year)-\(Self.two(Int64(local.tm_mon) + 1))-\(Self.two(Int64(local.tm_mday))) " + PacketOutput.time(nanoseconds) + " "
        }
    }

    /// `a - b`, held at the ends of Int64: a damaged file's timestamps can be that far apart.
    static func difference(_ a: Int64, _ b: Int64) -> Int64 {
        let (result, overflow) = a.subtractingReportingOverflow(b)
        return overflow ? (a > b ? .max : .min) : result
    }

    /// Whole seconds (rounded down) and microseconds.
    static func split(_ nanoseconds: Int64) -> (seconds: Int64, microseconds: Int64) {
        // Rounded down, without the overflow `nanoseconds - 999` would have at Int64.min.
        func floorDivide(_ a: Int64, _ b: Int64) -> Int64 {
            let (quotient, remainder) = a.quotientAndRemainder(dividingBy: b)
            return remainder < 0 ? quotient - 1 : quotient
        }
        let microseconds = floorDivide(nanoseconds, 1000)
        let seconds = floorDivide(microseconds, 1_000_000)
        return (seconds, microseconds - seconds * 1_000_000)
    }

    /// A time difference as tcpdump prints it: a sign (space or '-') and H:MM:SS.uuuuuu with
    /// at least two hour digits.
    static func duration(_ nanoseconds: Int64) -> String {
        let (seconds, fraction) = split(Int64(clamping: nanoseconds.magnitude))
        return (nanoseconds < 0 ? "-" : " ") + "\(two(seconds / 3600)):\(two(seconds / 60 % 60)):\(two(seconds % 60)).\(six(fraction))"
    }

    static func two(_ value: Int64) -> String { value < 10 ? "0\(value)" : "\(value)" }
    static func six(_ value: Int64) -> String {
        let digits = String(value)
        return String(repeating: "0", count: max(0, 6 - digits.count)) + digits
    }
}
