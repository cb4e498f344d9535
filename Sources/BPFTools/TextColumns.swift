/// Fixed-width columns as printf's %-Ns and %Ns make them: padded, never cut.
func pad(_ text: String, _ width: Int) -> String {
    text.count >= width ? text : text + String(repeating: " ", count: width - text.count)
}

func padLeft(_ text: String, _ width: Int, fill: Character = " ") -> String {
    text.count >= width ? text : String(repeating: fill, count: width - text.count) + text
}


/// `value` with `digits` decimals, as printf's %.Nf (values the tools print are small and
/// non-negative).
func fixed(_ value: Double, digits: Int) -> String {
    var scale = 1.0
    for _ in 0..<digits { scale *= 10 }
    let scaled = (value * scale).rounded()
    guard scaled.isFinite, abs(scaled) < 9e18 else { return String(value) }
    let whole = Int64(scaled)
    let sign = whole < 0 ? "-" : ""
    let magnitude = whole.magnitude
    let unit = UInt64(scale)
    let fraction = String(magnitude % unit)
    return sign + String(magnitude / unit) + (digits > 0 ? "." + String(repeating: "0", count: digits - fraction.count) + fraction : "")
}
