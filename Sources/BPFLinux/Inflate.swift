#if os(Linux)
/// gzip (RFC 1952) and DEFLATE (RFC 1951) decompression, enough to read /proc/config.gz:
/// BPFLinux may not link zlib, and the file is small. Malformed input is an error, never a
/// trap.
enum Inflate {
    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    /// The decompressed contents of a gzip file (its first member).
    static func gunzip(_ bytes: [UInt8]) throws(Failure) -> [UInt8] {
        guard bytes.count >= 18, bytes[0] == 0x1f, bytes[1] == 0x8b, bytes[2] == 8 else {
            throw Failure(description: "not a gzip file")
        }
        let flags = bytes[3]
        var position = 10
        if flags & 4 != 0 {   // FEXTRA
            guard position + 2 <= bytes.count else { throw Failure(description: "truncated gzip header") }
            position += 2 + Int(bytes[position]) | Int(bytes[position + 1]) << 8
        }
        for flag in [UInt8(8), 16] where flags & flag != 0 {   // FNAME, FCOMMENT: NUL-terminated
            while position < bytes.count && bytes[position] != 0 { position += 1 }
            position += 1
        }
        if flags & 2 != 0 { position += 2 }   // FHCRC
        guard position < bytes.count else { throw Failure(description: "truncated gzip header") }
        return try inflate(bytes, from: position)
    }

    /// Raw DEFLATE data starting at byte `start`.
    static func inflate(_ input: [UInt8], from start: Int) throws(Failure) -> [UInt8] {
        var reader = BitReader(bytes: input, position: start)
        var output: [UInt8] = []
        output.reserveCapacity(input.count * 4)
        var last = false
        while !last {
            last = try reader.bits(1) == 1
            switch try reader.bits(2) {
            case 0:
                reader.alignToByte()
                let length = try reader.bits(16), complement = try reader.bits(16)
                guard length == ~complement & 0xffff else { throw Failure(description: "stored block length check failed") }
                for _ in 0..<length { output.append(UInt8(try reader.bits(8))) }
            case 1:
                try inflateBlock(&reader, &output, literals: fixedLiterals, distances: fixedDistances)
            case 2:
                let (literals, distances) = try dynamicTables(&reader)
                try inflateBlock(&reader, &output, literals: literals, distances: distances)
            default:
                throw Failure(description: "invalid block type")
            }
            guard output.count < 1 << 28 else { throw Failure(description: "output larger than 256 MiB") }
        }
        return output
    }

    struct BitReader {
        let bytes: [UInt8]
        var position: Int
        var buffer: UInt32 = 0
        var count: UInt32 = 0

        mutating func bits(_ wanted: UInt32) throws(Failure) -> Int {
            while count < wanted {
                guard position < bytes.count else { throw Failure(description: "compressed data ends early") }
                buffer |= UInt32(bytes[position]) << count
                position += 1
                count += 8
            }
            let value = buffer & ((1 << wanted) - 1)
            buffer = wanted == 32 ? 0 : buffer >> wanted
            count -= wanted
            return Int(value)
        }

        mutating func alignToByte() {
            buffer = 0
            count = 0
        }
    }

    /// A canonical Huffman code: symbols by code length, as RFC 1951 builds them.
    struct Huffman {
        var counts = [Int](repeating: 0, count: 16)
        var symbols: [Int] = []

        init(lengths: [Int]) throws(Failure) {
            for length in lengths { counts[length] += 1 }
            counts[0] = 0
            var offsets = [Int](repeating: 0, count: 16)
            for length in 1..<16 { offsets[length] = offsets[length - 1] + counts[length - 1] }
            symbols = [Int](repeating: 0, count: lengths.count)
            for (symbol, length) in lengths.enumerated() where length != 0 {
                symbols[offsets[length]] = symbol
                offsets[length] += 1
            }
        }

        func decode(_ reader: inout BitReader) throws(Failure) -> Int {
            var code = 0, first = 0, index = 0
            for length in 1..<16 {
                code |= try reader.bits(1)
                let count = counts[length]
                if code - first < count { return symbols[index + code - first] }
                index += count
                first = (first + count) << 1
                code <<= 1
            }
            throw Failure(description: "invalid Huffman code")
        }
    }

    static let lengthBase = [3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31, 35, 43, 51, 59, 67, 83, 99, 115, 131, 163, 195, 227, 258]
    static let lengthExtra = [0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0]
    static let distanceBase = [1, 2, 3, 4, 5, 7, 9, 13, 17, 25, 33, 49, 65, 97, 129, 193, 257, 385, 513, 769, 1025, 1537,
                               2049, 3073, 4097, 6145, 8193, 12289, 16385, 24577]
    static let distanceExtra = [0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13]

    static let fixedLiterals: Huffman = {
        var lengths = [Int](repeating: 8, count: 288)
        for index in 144..<256 { lengths[index] = 9 }
        for index in 256..<280 { lengths[index] = 7 }
        return (try? Huffman(lengths: lengths)) ?? Huffman.empty
    }()
    static let fixedDistances: Huffman = (try? Huffman(lengths: [Int](repeating: 5, count: 30))) ?? Huffman.empty

    static func dynamicTables(_ reader: inout BitReader) throws(Failure) -> (Huffman, Huffman) {
        let literalCount = try reader.bits(5) + 257
        let distanceCount = try reader.bits(5) + 1
        let codeCount = try reader.bits(4) + 4
        let order = [16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15]
        var codeLengths = [Int](repeating: 0, count: 19)
        for index in 0..<codeCount { codeLengths[order[index]] = try reader.bits(3) }
        let lengthCode = try Huffman(lengths: codeLengths)
        var lengths: [Int] = []
        while lengths.count < literalCount + distanceCount {
            let symbol = try lengthCode.decode(&reader)
            switch symbol {
            case 0..<16:
                lengths.append(symbol)
            case 16:
                guard let previous = lengths.last else { throw Failure(description: "repeat with no previous length") }
                lengths += [Int](repeating: previous, count: 3 + (try reader.bits(2)))
            case 17:
                lengths += [Int](repeating: 0, count: 3 + (try reader.bits(3)))
            default:
                lengths += [Int](repeating: 0, count: 11 + (try reader.bits(7)))
            }
        }
        guard lengths.count == literalCount + distanceCount else { throw Failure(description: "code lengths overrun") }
        return (try Huffman(lengths: Array(lengths[0..<literalCount])), try Huffman(lengths: Array(lengths[literalCount...])))
    }

    static func inflateBlock(_ reader: inout BitReader, _ output: inout [UInt8], literals: Huffman,
                             distances: Huffman) throws(Failure) {
        while true {
            let symbol = try literals.decode(&reader)
            if symbol < 256 {
                output.append(UInt8(symbol))
                continue
            }
            if symbol == 256 { return }
            let lengthIndex = symbol - 257
            guard lengthIndex < lengthBase.count else { throw Failure(description: "invalid length symbol") }
            let length = lengthBase[lengthIndex] + (try reader.bits(UInt32(lengthExtra[lengthIndex])))
            let distanceIndex = try distances.decode(&reader)
            guard distanceIndex < distanceBase.count else { throw Failure(description: "invalid distance symbol") }
            let distance = distanceBase[distanceIndex] + (try reader.bits(UInt32(distanceExtra[distanceIndex])))
            guard distance <= output.count else { throw Failure(description: "distance reaches before the start") }
            let start = output.count - distance
            for offset in 0..<length { output.append(output[start + offset]) }
        }
    }
}

extension Inflate.Huffman {
    static let empty = Inflate.Huffman()
    private init() {}
}
#endif
