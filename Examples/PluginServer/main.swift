// eBPF as a plugin language inside a Swift server. The server's request filter is not
// Swift: it is request_filter.bpf.c, built with clang into an object that the server loads
// at start-up into SwiftBPF's VM. The verifier proves the plugin safe before the first
// request (it cannot crash the server or read past a request), the JIT runs it per request
// in well under a microsecond, and the plugin keeps its state in maps the server reads.
//
//     clang -target bpf -O2 -g -c Examples/PluginServer/request_filter.bpf.c -o request_filter.bpf.o
//     printf 'GET /index.html HTTP/1.1\nGET /admin HTTP/1.1\n' | swift run swiftbpf-plugin-example request_filter.bpf.o
//
// Each line on standard input is one request; the server answers each with a status line.
import BPFVM
import BPFVerifier
import Foundation

/// The server's own helper, which the plugin calls as helper 1000: a log line.
let serverLog = Helper(id: 1000, name: "server_log") { call throws(VMError) in
    let text = try call.memory(at: call.r1, count: Int(call.r2))
    print("  plugin says: " + String(decoding: text, as: UTF8.self))
    return 0
}
let host = HostEnvironment(helpers: [
    .init(serverLog, prototype: HelperPrototype(name: "server_log", arguments: [.readableMemory, .size(orZero: false)])),
])

guard CommandLine.arguments.count == 2, let bytes = FileManager.default.contents(atPath: CommandLine.arguments[1]) else {
    FileHandle.standardError.write(Data("usage: swiftbpf-plugin-example REQUEST_FILTER.bpf.o < requests\n".utf8))
    exit(2)
}
do {
    let plugin = try LoadedObject(bytes: [UInt8](bytes), name: "request_filter", host: host)
    try plugin.setGlobal(named: "max_length", to: withUnsafeBytes(of: UInt32(64).littleEndian) { Array($0) })
    let filter = try plugin.program(named: "filter")

    while let line = readLine() {
        let request = Array(line.utf8)
        let status: String
        do {
            status = try filter.run(packet: request).verdict == 2 ? "200 OK" : "403 Forbidden"
        } catch {
            status = "400 Bad Request"
        }
        print("\(line) -> \(status)")
    }

    // What the plugin kept: requests by method, and how many it refused.
    for (key, value) in try plugin.contents(ofMap: "by_method").sorted(by: { $0.key.lexicographicallyPrecedes($1.key) }) {
        let count = value.enumerated().reduce(UInt64(0)) { $0 | UInt64($1.element) << (8 * $1.offset) }
        print("\(String(decoding: key, as: UTF8.self).trimmingCharacters(in: .whitespaces)): \(count)")
    }
    let refused = try plugin.global(named: "refused").enumerated().reduce(UInt64(0)) { $0 | UInt64($1.element) << (8 * $1.offset) }
    print("refused: \(refused)")
} catch {
    FileHandle.standardError.write(Data("swiftbpf-plugin-example: \(error)\n".utf8))
    exit(1)
}
