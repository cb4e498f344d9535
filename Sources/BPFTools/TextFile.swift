#if os(Linux)
import Glibc

/// A whole text file (procfs files report size 0, so read to the end); nil when it cannot be
/// opened. Invalid UTF-8 is replaced.
func readTextFile(_ path: String) -> String? {
    readFileBytes(path).map { String(decoding: $0, as: UTF8.self) }
}

/// A file's bytes, read to its end (procfs files report no size, so no stat first).
func readFileBytes(_ path: String) -> [UInt8]? {
    guard let file = fopen(path, "r") else { return nil }
    defer { fclose(file) }
    var bytes: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 65536)
    while true {
        let count = fread(&chunk, 1, chunk.count, file)
        bytes += chunk[0..<count]
        if count < chunk.count { break }
    }
    return bytes
}
#endif
