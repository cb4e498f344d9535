/// The two textual forms of eBPF assembly that SwiftBPF reads and writes.
///
/// - `conformance`: the mnemonic syntax of the BPF conformance suite (and uBPF):
///   `mov %r0, 1`, `ldxdw %r0, [%r1+8]`, `jne %r1, 0, +3`, `lock fetch add [%r10-8], %r1`.
/// - `kernel`: the C-like syntax of llvm-objdump, the kernel verifier and bpftool:
///   `r0 = 1`, `r0 = *(u64 *)(r1 + 8)`, `if r1 != 0 goto +3`, `r1 = atomic_fetch_add((u64 *)(r10 - 8), r1)`.
public enum AssemblySyntax: String, Sendable, CaseIterable {
    case conformance, kernel

    /// Guesses the syntax of assembly text by a vote of its lines: `%r` registers and
    /// mnemonics such as `mov` or `ldxdw` count for conformance; assignments, `if ... goto`,
    /// `goto`, `*(u64 *)` and `r`/`w` registers at the start count for kernel. Lines that
    /// read the same in both (`exit`, `call 1`, labels) do not vote; a tie is conformance.
    public static func detect(_ text: String) -> AssemblySyntax {
        var conformanceVotes = 0
        var kernelVotes = 0
        let bytes = Array(text.utf8)
        var lineStart = 0
        while lineStart < bytes.count {
            var lineEnd = lineStart
            while lineEnd < bytes.count, bytes[lineEnd] != UInt8(ascii: "\n") { lineEnd += 1 }
            switch vote(bytes[lineStart..<lineEnd]) {
            case .conformance?: conformanceVotes += 1
            case .kernel?: kernelVotes += 1
            case nil: break
            }
            lineStart = lineEnd + 1
        }
        return kernelVotes > conformanceVotes ? .kernel : .conformance
    }

    /// Which syntax one line is written in, if it tells.
    private static func vote(_ fullLine: ArraySlice<UInt8>) -> AssemblySyntax? {
        var line = fullLine
        // Cut the comment: `;`, `//`, or `#` at the start or after a blank.
        var previous = UInt8(ascii: " ")
        for index in line.indices {
            let byte = line[index]
            if byte == UInt8(ascii: ";") || (byte == UInt8(ascii: "#") && previous.isASCIIBlank)
                || (byte == UInt8(ascii: "/") && previous == UInt8(ascii: "/")) {
                line = line[..<(byte == UInt8(ascii: "/") ? index - 1 : index)]
                break
            }
            previous = byte
        }
        var hasEquals = false
        for index in line.indices {
            if line[index] == UInt8(ascii: "%"), index + 1 < line.endIndex, line[index + 1] == UInt8(ascii: "r") {
                return .conformance
            }
            if line[index] == UInt8(ascii: "=") { hasEquals = true }
        }
        if hasEquals { return .kernel }
        // Skip a listing address ("12:") as bpftool and llvm-objdump print it.
        var start = line.startIndex
        while start < line.endIndex, line[start].isASCIIBlank { start += 1 }
        var afterDigits = start
        while afterDigits < line.endIndex, line[afterDigits].isASCIIDigit { afterDigits += 1 }
        if afterDigits > start, afterDigits < line.endIndex, line[afterDigits] == UInt8(ascii: ":") {
            start = afterDigits + 1
            while start < line.endIndex, line[start].isASCIIBlank { start += 1 }
        }
        guard start < line.endIndex else { return nil }
        if line[start] == UInt8(ascii: "*") || line[start] == UInt8(ascii: "(") { return .kernel }
        let words = line[start...].split(maxSplits: 2, omittingEmptySubsequences: true) {
            $0.isASCIIBlank || $0 == UInt8(ascii: ",") || $0 == UInt8(ascii: "(")
        }
        guard let first = words.first else { return nil }
        let word = String(decoding: first, as: UTF8.self)
        if kernelStarters.contains(word) || isRegisterName(first) { return .kernel }
        if word == "call", words.count > 1 {
            if words[1].starts(with: "pc".utf8) { return .kernel }
            if words[1].elementsEqual("local".utf8) { return .conformance }
        }
        if conformanceStarters.contains(word.lowercased()) { return .conformance }
        return nil
    }

    private static let kernelStarters: Set<String> = ["if", "goto", "gotol", "callx", "store_release"]

    /// First words that only the conformance syntax uses (beyond the ALU and jump families).
    private static let conformanceStarters: Set<String> = {
        var words: Set<String> = ["ja", "ja32", "lddw", "lock", "neg", "neg32", "neg64",
                                  "le16", "le32", "le64", "be16", "be32", "be64",
                                  "swap16", "swap32", "swap64", "bswap16", "bswap32", "bswap64",
                                  "movsx832", "movsx1632", "movsx864", "movsx1664", "movsx3264"]
        for op in ["add", "sub", "mul", "div", "sdiv", "or", "and", "lsh", "rsh", "mod", "smod", "xor", "mov", "arsh",
                   "jeq", "jgt", "jge", "jset", "jne", "jsgt", "jsge", "jlt", "jle", "jslt", "jsle"] {
            words.insert(op)
            words.insert(op + "32")
            words.insert(op + "64")
        }
        for size in ["b", "h", "w", "dw"] {
            for prefix in ["ldx", "ldxs", "st", "stx", "ldabs", "ldind", "ldxacq", "stxrel"] { words.insert(prefix + size) }
        }
        return words
    }()

    private static func isRegisterName(_ word: ArraySlice<UInt8>) -> Bool {
        guard let first = word.first, first == UInt8(ascii: "r") || first == UInt8(ascii: "w") else { return false }
        let digits = word.dropFirst()
        return !digits.isEmpty && digits.count <= 2 && digits.allSatisfy(\.isASCIIDigit)
    }
}
