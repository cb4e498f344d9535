/// One token of a filter expression, with where it is.
struct FilterToken: Sendable, Equatable {
    enum Kind: Sendable, Equatable {
        /// A keyword, number, address or name; `escaped` after a backslash (`\tcp`).
        case word(String, escaped: Bool)
        /// Punctuation: `( ) [ ] : + - * / % & | ^ << >> = == != > < >= <= ! && ||`.
        case symbol(String)
        case end
    }

    var kind: Kind
    var offset: Int
    var length: Int
    /// For a word, escaped or not, whether its text is a keyword (`FilterNames.kind(of:_:)`)
    /// and whether a protocol qualifier: found once here, asked often by the parser.
    var isKeyword = false
    var isProtocolQualifier = false

    var word: String? {
        if case .word(let text, false) = kind { return text }
        return nil
    }

    /// Whether this is the keyword `w`, not escaped.
    func isWord(_ w: String) -> Bool {
        guard case .word(let text, false) = kind else { return false }
        return Self.same(text, w)
    }

    func isSymbol(_ s: String) -> Bool {
        guard case .symbol(let text) = kind else { return false }
        return Self.same(text, s)
    }

    /// Length and first byte first: the parser asks mostly about other words, which these
    /// tell apart, and comparing two unequal strings costs more than the rest of its step.
    private static func same(_ a: String, _ b: String) -> Bool {
        a.utf8.count == b.utf8.count && a.utf8.first == b.utf8.first && a == b
    }
}

/// Splits an expression into tokens. Words follow libpcap's lexer: letters, digits and
/// `- _ . :` so that `tcp-syn`, `10-20`, `1.2.3.4`, `::1` and `0:1:2:3:4:5` are one word;
/// a colon that makes no address ends the word, so `ip[2:2]` still splits.
enum FilterLexer {
    static func tokenize(_ text: String) throws(FilterError) -> [FilterToken] {
        var text = text
        // Over the text's own UTF-8 buffer: an array of its bytes cost an allocation.
        let tokens = text.withUTF8 { bytes in Result { () throws(FilterError) in try tokenize(bytes) } }
        return try tokens.get()
    }

    private static func tokenize(_ bytes: UnsafeBufferPointer<UInt8>) throws(FilterError) -> [FilterToken] {
        var tokens: [FilterToken] = []
        // A token takes at least two bytes with its space, as a rule.
        tokens.reserveCapacity(bytes.count / 2 + 2)
        var i = 0
        func isWordByte(_ b: UInt8) -> Bool {
            (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x5a) || (b >= 0x61 && b <= 0x7a)
                || b == 0x5f || b == 0x2e || b == 0x2d || b == 0x3a
        }
        func isWordStart(_ b: UInt8) -> Bool { isWordByte(b) && b != 0x2d && b != 0x2e }
        while i < bytes.count {
            let b = bytes[i]
            if b == 0x20 || b == 0x09 || b == 0x0a || b == 0x0d {
                i += 1
                continue
            }
            var escaped = false
            var start = i
            if b == 0x5c {  // backslash: the next word is a name, not a keyword
                guard i + 1 < bytes.count, isWordStart(bytes[i + 1]) else {
                    throw FilterError(offset: i, message: "a backslash must be followed by a name, as in \\tcp")
                }
                escaped = true
                start = i + 1
            }
            let first = bytes[start]
            if isWordStart(first) && !(first == 0x3a && !(start + 1 < bytes.count && bytes[start + 1] == 0x3a)) {
                var end = start
                // Colons noted on the way: searching the word again cost as much as the scan.
                var colons = false
                while end < bytes.count, isWordByte(bytes[end]) {
                    colons = colons || bytes[end] == 0x3a
                    end += 1
                }
                // libpcap's names end in a letter, digit or dot.
                while end > start + 1, bytes[end - 1] == 0x2d || bytes[end - 1] == 0x5f { end -= 1 }
                var address: String?
                if colons {
                    let word = String(decoding: bytes[start..<end], as: UTF8.self)
                    if AddressParser.macAddress(word) == nil, AddressParser.ipv6Address(word) == nil {
                        if AddressParser.isBogusEthernetAddress(bytes[start..<end]) {
                            throw FilterError(offset: start, length: end - start, message: "bogus Ethernet address '\(word)': it needs six parts")
                        }
                        let colon = bytes[start..<end].firstIndex(of: 0x3a) ?? end
                        if colon == start {
                            throw FilterError(offset: start, length: end - start, message: "'\(word)' is not an address")
                        }
                        end = colon
                    } else {
                        address = word
                    }
                }
                // A keyword's text is the table's own string, not made again from the bytes.
                let names = FilterNames.kind(of: bytes[start..<end])
                let word = address ?? names.text ?? String(decoding: bytes[start..<end], as: UTF8.self)
                // As libpcap's lexer; twelve hex digits are an Ethernet address first. Numbers
                // of fewer than ten characters fit, so most words skip the check.
                if !escaped, end - start >= 10, (0x30...0x39).contains(first), AddressParser.overflows(word),
                   AddressParser.macAddress(word) == nil {
                    throw FilterError(offset: start, length: end - start, message: "number \(word) overflows 32 bits")
                }
                tokens.append(FilterToken(kind: .word(word, escaped: escaped), offset: i, length: end - i,
                                          isKeyword: names.keyword, isProtocolQualifier: names.protocolQualifier))
                i = end
                continue
            }
            guard let symbol = symbol(bytes, at: i) else {
                // Report the whole character, not one byte of it.
                var end = i + 1
                while end < bytes.count, bytes[end] & 0xc0 == 0x80 { end += 1 }
                let character = String(decoding: bytes[i..<end], as: UTF8.self)
                throw FilterError(offset: i, length: end - i, message: "unexpected character '\(character)'")
            }
            tokens.append(FilterToken(kind: .symbol(symbol), offset: i, length: symbol.utf8.count))
            i += symbol.utf8.count
        }
        tokens.append(FilterToken(kind: .end, offset: bytes.count, length: 0))
        return tokens
    }

    /// The punctuation at `bytes[i]`, two characters before one; nil for none. A switch on
    /// the bytes, as a search of a list of symbols cost more than the rest of the token.
    private static func symbol(_ bytes: UnsafeBufferPointer<UInt8>, at i: Int) -> String? {
        let b = bytes[i]
        if i + 1 < bytes.count {
            switch (b, bytes[i + 1]) {
            case (UInt8(ascii: "<"), UInt8(ascii: "<")): return "<<"
            case (UInt8(ascii: ">"), UInt8(ascii: ">")): return ">>"
            case (UInt8(ascii: "="), UInt8(ascii: "=")): return "=="
            case (UInt8(ascii: "!"), UInt8(ascii: "=")): return "!="
            case (UInt8(ascii: ">"), UInt8(ascii: "=")): return ">="
            case (UInt8(ascii: "<"), UInt8(ascii: "=")): return "<="
            case (UInt8(ascii: "&"), UInt8(ascii: "&")): return "&&"
            case (UInt8(ascii: "|"), UInt8(ascii: "|")): return "||"
            default: break
            }
        }
        switch b {
        case UInt8(ascii: "("): return "("
        case UInt8(ascii: ")"): return ")"
        case UInt8(ascii: "["): return "["
        case UInt8(ascii: "]"): return "]"
        case UInt8(ascii: ":"): return ":"
        case UInt8(ascii: "+"): return "+"
        case UInt8(ascii: "-"): return "-"
        case UInt8(ascii: "*"): return "*"
        case UInt8(ascii: "/"): return "/"
        case UInt8(ascii: "%"): return "%"
        case UInt8(ascii: "&"): return "&"
        case UInt8(ascii: "|"): return "|"
        case UInt8(ascii: "^"): return "^"
        case UInt8(ascii: "="): return "="
        case UInt8(ascii: ">"): return ">"
        case UInt8(ascii: "<"): return "<"
        case UInt8(ascii: "!"): return "!"
        default: return nil
        }
    }
}
