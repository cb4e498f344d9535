#if os(Linux)
import BPFObject
import Glibc

/// The running kernel's build configuration, as `extern ... __kconfig` variables read it:
/// /proc/config.gz, else /boot/config-$(uname -r), as libbpf looks for it.
public struct KernelConfig: Sendable, Hashable {
    /// `CONFIG_FOO` → its value as written ("y", "m", "42", "\"text\"").
    public var values: [String: String]
    /// Where the values came from.
    public var source: String

    public init(values: [String: String], source: String) {
        self.values = values
        self.source = source
    }

    /// Parses `CONFIG_X=value` lines; `# CONFIG_X is not set` is left out, as libbpf leaves it.
    public init(text: String, source: String) {
        var values: [String: String] = [:]
        for line in text.split(separator: "\n") where line.hasPrefix("CONFIG_") {
            guard let equals = line.firstIndex(of: "=") else { continue }
            values[String(line[..<equals])] = String(line[line.index(after: equals)...])
        }
        self.init(values: values, source: source)
    }

    /// The places tried, in order.
    public static var candidatePaths: [String] {
        ["/proc/config.gz", "/boot/config-\(KernelRelease.current.release)"]
    }

    /// The running kernel's configuration, or an error naming every file tried.
    public static func running() throws(BPFError) -> KernelConfig {
        for path in candidatePaths {
            guard let bytes = try? readWholeFile(path) else { continue }
            var text = bytes
            if path.hasSuffix(".gz") {
                do { text = try Inflate.gunzip(bytes) } catch {
                    throw BPFError(operation: "read kernel config", errno: EINVAL, subject: path, detail: "\(path) does not decompress: \(error)")
                }
            }
            return KernelConfig(text: String(decoding: text, as: UTF8.self), source: path)
        }
        throw BPFError(operation: "read kernel config", errno: ENOENT,
                       detail: "no kernel configuration found: neither \(candidatePaths.joined(separator: " nor ")) exists")
    }

    /// The bytes for a `.kconfig` extern of `type` and `size`, as libbpf's
    /// `set_kcfg_value_*` writes them; nil when the config does not have it.
    func value(for name: String, type: ExternSpec.KconfigType, size: Int) throws(BPFError) -> [UInt8]? {
        guard let text = values[name] else { return nil }
        func bad(_ why: String) -> BPFError {
            BPFError(operation: "resolve __kconfig", errno: EINVAL, subject: name, detail: "\(name)=\(text) in \(source): \(why)")
        }
        switch type {
        case .bool, .tristate:
            let number: UInt8 = switch text {
            case "y": 1
            case "n": 0
            case "m" where type == .tristate: 2
            default: 255
            }
            guard number != 255 else { throw bad(type == .bool ? "not a bool (y or n)" : "not a tristate (y, n or m)") }
            return littleEndian(UInt64(number), size: size)
        case .character:
            guard text == "y" || text == "n" || text == "m" else { throw bad("not y, n or m") }
            return [text.utf8.first ?? 0]
        case .characterArray:
            guard text.hasPrefix("\""), text.hasSuffix("\""), text.count >= 2 else { throw bad("not a quoted string") }
            var bytes = Array(text.utf8.dropFirst().dropLast())
            bytes = Array(bytes.prefix(max(0, size - 1)))
            return bytes + [UInt8](repeating: 0, count: size - bytes.count)
        case .integer(let signed):
            let negative = text.hasPrefix("-")
            let digits = negative ? text.dropFirst() : Substring(text)
            let parsed = digits.hasPrefix("0x") || digits.hasPrefix("0X") ? UInt64(digits.dropFirst(2), radix: 16) : UInt64(digits)
            guard let magnitude = parsed else { throw bad("not an integer") }
            guard !negative || signed else { throw bad("negative for an unsigned variable") }
            let value = negative ? UInt64(bitPattern: -Int64(bitPattern: magnitude)) : magnitude
            if size < 8 {
                let bits = UInt64(size * 8)
                let fits = signed ? (Int64(bitPattern: value) >> (bits - 1) == 0 || Int64(bitPattern: value) >> (bits - 1) == -1)
                                  : value >> bits == 0
                guard fits else { throw bad("does not fit in \(size) bytes") }
            }
            return littleEndian(value, size: size)
        }
    }

    private func littleEndian(_ value: UInt64, size: Int) -> [UInt8] {
        (0..<size).map { UInt8(truncatingIfNeeded: $0 < 8 ? value >> UInt64($0 * 8) : 0) }
    }
}

/// `uname -r` and the `LINUX_KERNEL_VERSION` libbpf derives from it.
public struct KernelRelease: Sendable, Hashable {
    public var release: String

    public static var current: KernelRelease {
        var name = utsname()
        uname(&name)
        let release = withUnsafeBytes(of: name.release) { bytes in
            String(decoding: bytes.prefix { $0 != 0 }, as: UTF8.self)
        }
        return KernelRelease(release: release)
    }

    /// `KERNEL_VERSION(a, b, c)` with the sublevel capped at 255, as the kernel does.
    public var versionCode: UInt32? {
        let numbers = release.split(whereSeparator: { !$0.isNumber }).prefix(3).compactMap { UInt32($0) }
        guard numbers.count >= 2 else { return nil }
        let sublevel = numbers.count > 2 ? min(numbers[2], 255) : 0
        return numbers[0] << 16 | numbers[1] << 8 | sublevel
    }
}
#endif
