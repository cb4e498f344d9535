import BPFLinux
import BPFObject
import Foundation

// What the kernel-inspection commands (prog, map, link, feature, load) share: reaching
// kernel objects by id with one-sentence errors, bpftool's hex byte lists, JSON output,
// and the figures bpftool reads from /proc (memlock, frozen, load time).

/// A bpf(2) failure as the one sentence the CLI prints.
func commandError(_ error: BPFError, _ context: String) -> CommandError {
    var sentence = "\(context): \(error.systemMessage)"
    if let detail = error.detail ?? error.likelyCause { sentence += " (\(detail))" }
    if let log = error.log, !log.isEmpty { sentence += "\nverifier log:\n" + log }
    return CommandError(sentence)
}

/// Runs a bpf(2) step, turning its error into a `CommandError` that says what was tried.
func kernel<T>(_ context: @autoclosure () -> String, _ body: () throws(BPFError) -> T) throws -> T {
    do { return try body() } catch { throw commandError(error, context()) }
}

/// bpftool's byte list: `0x01 0x00 0x00 0x00`.
func hexBytes(_ bytes: [UInt8]) -> [String] {
    bytes.map { "0x" + ($0 < 16 ? "0" : "") + String($0, radix: 16) }
}

/// Bytes given as bpftool takes them: `0x01 0x00 2 255`, or one `0x0100...` run, or decimal.
func parseBytes(_ words: [String], expected: Int, what: String) throws -> [UInt8] {
    var bytes: [UInt8] = []
    for word in words {
        let lower = word.lowercased()
        if lower.hasPrefix("0x") && lower.count > 4 {
            let digits = Array(lower.dropFirst(2))
            guard digits.count % 2 == 0 else { throw CommandError("\(what): '\(word)' has an odd number of hex digits") }
            for index in stride(from: 0, to: digits.count, by: 2) {
                guard let byte = UInt8(String(digits[index...index + 1]), radix: 16) else {
                    throw CommandError("\(what): '\(word)' is not hex")
                }
                bytes.append(byte)
            }
        } else if lower.hasPrefix("0x"), let byte = UInt8(lower.dropFirst(2), radix: 16) {
            bytes.append(byte)
        } else if let byte = UInt8(word) {
            bytes.append(byte)
        } else {
            throw CommandError("\(what): '\(word)' is not a byte (0x00 to 0xff or 0 to 255)")
        }
    }
    guard bytes.count == expected else {
        throw CommandError("\(what) is \(bytes.count) bytes; this map takes \(expected)")
    }
    return bytes
}

/// JSON text of `value` (dictionaries, arrays, strings, numbers, booleans), keys sorted.
func jsonText(_ value: Any) throws -> String {
    let data = try JSONSerialization.data(withJSONObject: value, options: [.sortedKeys, .withoutEscapingSlashes])
    return String(decoding: data, as: UTF8.self)
}

/// `/proc/self/fdinfo/<fd>` as key → value ("memlock" → "4096", "frozen" → "1").
func fdInfo(_ fd: FileDescriptor) -> [String: String] {
    guard let text = try? String(contentsOfFile: "/proc/self/fdinfo/\(fd.rawValue)", encoding: .utf8) else { return [:] }
    var fields: [String: String] = [:]
    for line in text.split(separator: "\n") {
        guard let colon = line.firstIndex(of: ":") else { continue }
        fields[String(line[..<colon])] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
    }
    return fields
}

/// Seconds since the epoch of a time given in nanoseconds since boot, as bpftool converts
/// `load_time`.
func wallClockSeconds(sinceBoot nanoseconds: UInt64) -> Int {
    var boot = timespec()
    clock_gettime(CLOCK_BOOTTIME, &boot)
    let bootNanoseconds = Int64(boot.tv_sec) * 1_000_000_000 + Int64(boot.tv_nsec)
    let ago = Double(bootNanoseconds - Int64(clamping: nanoseconds)) / 1e9
    return Int(Date().timeIntervalSince1970 - ago)
}

/// bpftool's `%FT%T%z` in local time.
func localTimestamp(_ seconds: Int) -> String {
    var time = time_t(seconds)
    var parts = tm()
    localtime_r(&time, &parts)
    var buffer = [CChar](repeating: 0, count: 64)
    let count = strftime(&buffer, buffer.count, "%FT%T%z", &parts)
    return String(decoding: buffer[0..<count].map { UInt8(bitPattern: $0) }, as: UTF8.self)
}

/// Every id of `kind`, as a one-sentence error when bpf(2) refuses.
func kernelIDs(_ kind: KernelObjectKind) throws -> [UInt32] {
    try kernel("cannot list \(kind.rawValue)s") { () throws(BPFError) in try SystemCall.ids(of: kind) }
}
