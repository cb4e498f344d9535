@testable import BPFVM
import Foundation
import Testing

/// One object's programs on several threads at once, each thread with its own
/// `LoadedProgram`: the map the threads share counts every packet (the program adds with an
/// atomic instruction, which must be atomic across threads in both engines), and each
/// thread's packets come out as its own program left them.
@Suite struct ConcurrentRunTests {
    @Test(arguments: EngineKind.allCases)
    func threadsShareMaps(_ engine: EngineKind) throws {
        let object = try ObjectFixtures.load("counter", engine: engine)
        // The entry exists before the threads start, so that every run takes the atomic add.
        try #require(object.map(named: "by_ethertype")).update(key: [0x00, 0x08], value: [UInt8](repeating: 0, count: 8), flags: .any)
        try object.setInteger("swap", 1)
        let threads = 4, runs = 2000
        let programs = try (0..<threads).map { _ in try object.program(named: "count") }
        let failures = Failures()
        DispatchQueue.concurrentPerform(iterations: threads) { thread in
            var frame = ObjectFixtures.udpFrame(payload: thread)
            frame[5] = UInt8(thread)   // each thread's own destination address
            for _ in 0..<runs {
                do {
                    let run = try programs[thread].run(packet: frame)
                    if run.verdict != 2 || run.packet[11] != UInt8(thread) || run.packet.count != frame.count {
                        failures.add("thread \(thread): verdict \(run.verdict), packet \(run.packet)")
                    }
                } catch {
                    failures.add("thread \(thread): \(error)")
                }
            }
        }
        #expect(failures.all.isEmpty, "\(failures.all.prefix(3))")
        let count = try #require(try object.map(named: "by_ethertype")?.lookup(key: [0x00, 0x08]))
        #expect(count == withUnsafeBytes(of: UInt64(threads * runs).littleEndian) { Array($0) })
    }
}

/// Failures collected from several threads.
final class Failures: @unchecked Sendable {
    private let lock = NSLock()
    private var list: [String] = []
    func add(_ failure: String) { lock.lock(); list.append(failure); lock.unlock() }
    var all: [String] { lock.lock(); defer { lock.unlock() }; return list }
}
