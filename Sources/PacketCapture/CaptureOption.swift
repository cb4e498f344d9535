import BPFObject

/// One pcapng option: a code, and a value whose meaning depends on the block it is in
/// (code 2 is `shb_hardware` in a section header, `if_name` in an interface, `epb_flags`
/// in a packet). Kept raw so unknown options survive a read and a write; only the numbers
/// of the options pcapng defines as numbers (`epb_flags`, `if_speed`, ...) are kept
/// little-endian whatever the file's byte order, so that they are written right in either.
public struct CaptureOption: Sendable, Hashable {
    public var code: UInt16
    public var value: [UInt8]

    public init(code: UInt16, value: [UInt8]) {
        self.code = code
        self.value = value
    }

    /// A UTF-8 string option (`opt_comment`, `if_name`, `shb_userappl`, ...).
    public init(code: UInt16, string: String) {
        self.init(code: code, value: Array(string.utf8))
    }

    /// The value read as UTF-8 text.
    public var stringValue: String { String(decoding: value, as: UTF8.self) }

    /// `opt_comment`, valid in every block.
    public static let commentCode: UInt16 = 1
}

/// Codes the reader and writer act on.
enum OptionCode {
    static let endOfOptions: UInt16 = 0
    static let interfaceName: UInt16 = 2
    static let timestampResolution: UInt16 = 9
    static let fcsLength: UInt16 = 13
    static let timestampOffset: UInt16 = 14
}

/// The blocks with options that hold numbers.
enum OptionBlock {
    case interface, packet
}

extension CaptureOption {
    /// The width of the number an option of `code` holds in `block`, if it holds one.
    static func numberWidth(_ code: UInt16, in block: OptionBlock) -> Int? {
        switch (block, code) {
        case (.interface, 10), (.packet, 2), (.packet, 6): 4  // if_tzone, epb_flags, epb_queue
        // if_speed, if_tsoffset, if_txspeed, if_rxspeed; epb_dropcount, epb_packetid
        case (.interface, 8), (.interface, 14), (.interface, 16), (.interface, 17), (.packet, 4), (.packet, 5): 8
        default: nil
        }
    }

    /// `options` with the bytes of their numbers reversed: read from or written to a
    /// big-endian section.
    static func swappingNumbers(_ options: [CaptureOption], in block: OptionBlock) -> [CaptureOption] {
        options.map { option in
            guard numberWidth(option.code, in: block) == option.value.count else { return option }
            return CaptureOption(code: option.code, value: option.value.reversed())
        }
    }

    /// Parses the options in `start..<end` of `reader`'s bytes, in its byte order. The list
    /// ends at `opt_endofopt` or at `end`; an option whose value runs past `end` is an error
    /// naming its offset. Every option moves the cursor forward, so this always terminates.
    static func parse(_ reader: ByteReader, from start: Int, to end: Int) throws(CaptureError) -> [CaptureOption] {
        var options: [CaptureOption] = []
        var offset = start
        while offset < end {
            guard end - offset >= 4 else {
                throw CaptureError(.malformed, "option header needs 4 bytes, only \(end - offset) left in the block", offset: offset)
            }
            let code: UInt16, length: Int
            do {
                code = try reader.u16(at: offset)
                length = Int(try reader.u16(at: offset + 2))
            } catch {
                throw CaptureError(.truncated, "option header: \(error)", offset: offset)
            }
            if code == OptionCode.endOfOptions { break }
            guard length <= end - offset - 4 else {
                throw CaptureError(.malformed, "option \(code) claims \(length) bytes, only \(end - offset - 4) left in the block", offset: offset)
            }
            do {
                options.append(CaptureOption(code: code, value: Array(try reader.bytes(at: offset + 4, count: length))))
            } catch {
                throw CaptureError(.truncated, "option \(code): \(error)", offset: offset)
            }
            // Values are padded to 4 bytes; a missing pad after the last one is tolerated.
            offset += 4 + min((length + 3) & ~3, end - offset - 4)
        }
        return options
    }
}
