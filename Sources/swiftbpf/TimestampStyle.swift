import Foundation

/// How a packet line begins, chosen as tcpdump chooses it by how many times -t is given:
/// none the time of day, -t nothing, -tt seconds since 1970, -ttt the time since the
/// previous packet, -tttt the date and time of day, -ttttt the time since the first packet;
/// to the microsecond, or to the nanosecond with --time-stamp-precision nano.
struct TimestampStyle {
    enum Kind { case clock, none, epoch, sincePrevious, dateAndClock, sinceFirst }
    let kind: Kind
    /// Nine digits after the second's point instead of six.
    let nanoseconds: Bool
    private var first: Int64?
    private var previous: Int64?

    init(tCount: Int, nanoseconds: Bool = false) {
        self.nanoseconds = nanoseconds
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
        case .clock: return clock(nanoseconds) + " "
        case .none: return ""
        case .epoch:
            let (seconds, fraction) = split(nanoseconds)
            return "\(seconds).\(fraction) "
        case .sincePrevious: return duration(Self.difference(nanoseconds, previous ?? nanoseconds)) + " "
        case .sinceFirst: return duration(Self.difference(nanoseconds, first ?? nanoseconds)) + " "
        case .dateAndClock:
            var clock = time_t(split(nanoseconds).seconds)
            var local = tm()
            guard localtime_r(&clock, &local) != nil else { return self.clock(nanoseconds) + " " }
            let year = Int(local.tm_year) + 1900
            return "\(year)-\(Self.two(Int64(local.tm_mon) + 1))-\(Self.two(Int64(local.tm_mday))) " + self.clock(nanoseconds) + " "
        }
    }

    /// tcpdump's default timestamp, `HH:MM:SS.uuuuuu`, in local time as tcpdump prints it
    /// (the TZ environment variable chooses the zone).
    func clock(_ nanoseconds: Int64) -> String {
        let (seconds, fraction) = split(nanoseconds)
        var ofDay = ((seconds % 86_400) + 86_400) % 86_400
        var clock = time_t(seconds)
        var local = tm()
        if localtime_r(&clock, &local) != nil {
            ofDay = Int64(local.tm_hour) * 3600 + Int64(local.tm_min) * 60 + Int64(local.tm_sec)
        }
        return "\(Self.two(ofDay / 3600)):\(Self.two(ofDay / 60 % 60)):\(Self.two(ofDay % 60)).\(fraction)"
    }

    /// `a - b`, held at the ends of Int64: a damaged file's timestamps can be that far apart.
    static func difference(_ a: Int64, _ b: Int64) -> Int64 {
        let (result, overflow) = a.subtractingReportingOverflow(b)
        return overflow ? (a > b ? .max : .min) : result
    }

    /// Whole seconds (rounded down) and the fraction's digits, six or nine of them.
    func split(_ nanoseconds: Int64) -> (seconds: Int64, fraction: String) {
        // Rounded down, without the overflow `nanoseconds - 999` would have at Int64.min.
        func floorDivide(_ a: Int64, _ b: Int64) -> Int64 {
            let (quotient, remainder) = a.quotientAndRemainder(dividingBy: b)
            return remainder < 0 ? quotient - 1 : quotient
        }
        let (ticks, perSecond, width) = self.nanoseconds ? (nanoseconds, Int64(1_000_000_000), 9) : (floorDivide(nanoseconds, 1000), 1_000_000, 6)
        // The remainder, made positive, rather than `ticks - seconds * perSecond`, which
        // overflows for the earliest times.
        var (seconds, fraction) = ticks.quotientAndRemainder(dividingBy: perSecond)
        if fraction < 0 {
            seconds -= 1
            fraction += perSecond
        }
        let digits = String(fraction)
        return (seconds, String(repeating: "0", count: max(0, width - digits.count)) + digits)
    }

    /// A time difference as tcpdump prints it: a sign (space or '-') and HH:MM:SS.uuuuuu, the
    /// whole days left out (tcpdump formats the difference as a time of day).
    func duration(_ nanoseconds: Int64) -> String {
        let (seconds, fraction) = split(Int64(clamping: nanoseconds.magnitude))
        return (nanoseconds < 0 ? "-" : " ") + "\(Self.two(seconds / 3600 % 24)):\(Self.two(seconds / 60 % 60)):\(Self.two(seconds % 60)).\(fraction)"
    }

    static func two(_ value: Int64) -> String { value < 10 ? "0\(value)" : "\(value)" }
}
