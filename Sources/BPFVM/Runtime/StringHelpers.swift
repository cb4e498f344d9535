/// trace_printk, snprintf and strncmp: the kernel's restricted printf and its string compare.
extension KernelHelpers {
    static func stringHelpers(trace: @escaping @Sendable (String) -> Void) -> [Helper] {
        [
            Helper(id: 6, name: "trace_printk") { call throws(VMError) in
                let formatSize = try size(call.r2, call)
                let format = try call.memory(at: call.r1, count: formatSize)
                // The format must end within its size (the kernel refuses it otherwise).
                guard let end = format.firstIndex(of: 0) else { return Errno.invalid }
                guard let text = try PrintfFormat.format(Array(format[..<end]), arguments: [call.r3, call.r4, call.r5], call: call) else {
                    return Errno.invalid
                }
                trace(String(decoding: text, as: UTF8.self))
                return UInt64(text.count)
            },
            Helper(id: 165, name: "snprintf") { call throws(VMError) in
                let output = try call.memory(at: call.r1, count: try size(call.r2, call), writing: true)
                let format = try call.string(at: call.r3)
                let dataSize = try size(call.r5, call)
                guard dataSize % 8 == 0, dataSize <= 8 * PrintfFormat.maxArguments else { return Errno.invalid }
                let data = try call.memory(at: call.r4, count: dataSize)
                var arguments: [UInt64] = []
                for index in 0..<dataSize / 8 { arguments.append(data.loadUnaligned(fromByteOffset: index * 8, as: UInt64.self)) }
                guard let text = try PrintfFormat.format(Array(format), arguments: arguments, call: call) else { return Errno.invalid }
                if output.count > 0 {
                    let kept = min(text.count, output.count - 1)
                    for index in 0..<kept { output[index] = text[index] }
                    output[kept] = 0
                }
                return UInt64(text.count + 1)
            },
            Helper(id: 182, name: "strncmp") { call throws(VMError) in
                let first = try call.memory(at: call.r1, count: try size(call.r2, call))
                for index in 0..<first.count {
                    let a = first[index], b = try call.memory(at: call.r3 &+ UInt64(index), count: 1)[0]
                    if a != b { return a < b ? UInt64(bitPattern: -1) : 1 }
                    if a == 0 { break }
                }
                return 0
            },
        ]
    }
}

/// The printf of bpf_trace_printk and bpf_snprintf: flags, width, precision, the `l` and
/// `ll` lengths and the conversions d i u x X c s p (px, pK) and %%; anything else makes the
/// helper return -EINVAL, as the kernel's bpf_bprintf_prepare does.
enum PrintfFormat {
    /// MAX_BPRINTF_VARARGS.
    static let maxArguments = 12

    /// The formatted bytes, or nil for a format the kernel refuses (or that needs more
    /// arguments than there are). `%s` reads a string of program memory through `call`.
    static func format(_ format: [UInt8], arguments: [UInt64], call: HelperCall) throws(VMError) -> [UInt8]? {
        var output: [UInt8] = []
        var index = 0, used = 0
        func byte(_ at: Int) -> UInt8 { at < format.count ? format[at] : 0 }
        while index < format.count {
            let c = format[index]
            index += 1
            guard c == UInt8(ascii: "%") else { output.append(c); continue }
            if byte(index) == UInt8(ascii: "%") { output.append(c); index += 1; continue }
            var leftAlign = false, zeroPad = false, plus = false, space = false
            while true {
                switch byte(index) {
                case UInt8(ascii: "-"): leftAlign = true
                case UInt8(ascii: "0"): zeroPad = true
                case UInt8(ascii: "+"): plus = true
                case UInt8(ascii: " "): space = true
                case UInt8(ascii: "#"): break
                default: break
                }
                guard [UInt8(ascii: "-"), UInt8(ascii: "0"), UInt8(ascii: "+"), UInt8(ascii: " "), UInt8(ascii: "#")].contains(byte(index)) else { break }
                index += 1
            }
            var width = 0
            while (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte(index)) { width = width * 10 + Int(byte(index) - 48); index += 1 }
            var precision: Int?
            if byte(index) == UInt8(ascii: ".") {
                index += 1
                var value = 0
                while (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte(index)) { value = value * 10 + Int(byte(index) - 48); index += 1 }
                precision = value
            }
            var long = 0
            while byte(index) == UInt8(ascii: "l"), long < 2 { long += 1; index += 1 }
            let conversion = byte(index)
            index += 1
            guard used < arguments.count else { return nil }
            let value = arguments[used]
            used += 1
            var body: [UInt8]
            var sign: [UInt8] = []
            switch conversion {
            case UInt8(ascii: "d"), UInt8(ascii: "i"):
                let number = long > 0 ? Int64(bitPattern: value) : Int64(Int32(truncatingIfNeeded: value))
                body = Array(String(number.magnitude).utf8)
                sign = number < 0 ? [UInt8(ascii: "-")] : plus ? [UInt8(ascii: "+")] : space ? [UInt8(ascii: " ")] : []
            case UInt8(ascii: "u"), UInt8(ascii: "x"), UInt8(ascii: "X"):
                let number = long > 0 ? value : value & 0xffff_ffff
                let text = conversion == UInt8(ascii: "u") ? String(number) : String(number, radix: 16, uppercase: conversion == UInt8(ascii: "X"))
                body = Array(text.utf8)
            case UInt8(ascii: "c"):
                body = [UInt8(truncatingIfNeeded: value)]
            case UInt8(ascii: "s"):
                body = value == 0 ? Array("(null)".utf8) : Array(try call.string(at: value))
                if let precision { body = Array(body.prefix(precision)) }
            case UInt8(ascii: "p"):
                if byte(index) == UInt8(ascii: "x") || byte(index) == UInt8(ascii: "K") { index += 1 }
                body = Array(String(value, radix: 16).utf8)
                body = [UInt8](repeating: UInt8(ascii: "0"), count: max(0, 16 - body.count)) + body
            default:
                return nil
            }
            if let precision, conversion != UInt8(ascii: "s"), body.count < precision {
                body = [UInt8](repeating: UInt8(ascii: "0"), count: precision - body.count) + body
            }
            let padding = max(0, width - body.count - sign.count)
            if leftAlign {
                output += sign + body + [UInt8](repeating: UInt8(ascii: " "), count: padding)
            } else if zeroPad && precision == nil {
                output += sign + [UInt8](repeating: UInt8(ascii: "0"), count: padding) + body
            } else {
                output += [UInt8](repeating: UInt8(ascii: " "), count: padding) + sign + body
            }
        }
        return output
    }
}
