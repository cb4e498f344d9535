#if os(Linux)
import BPFLinux
import BPFObject
import Foundation
import Glibc
import Synchronization

/// Ring buffer reading speed: a `syscall` program run with BPF_PROG_TEST_RUN fills a 16 MiB
/// kernel ring buffer with 64-byte records in a bpf_loop, and `RingBuffer.consume` reads
/// them (touching each record's first word). Two figures: consuming a full ring (the
/// reader alone), and a producer thread and the reader running at the same time (as
/// libbpf's ringbuf benchmark does; it reports 12–21 M records/s for one producer), which
/// the kernel producer bounds: its own rate is printed too.
enum RingBufferBenchmark {
    static let source = #"""
    #include <linux/types.h>
    #include <linux/bpf.h>
    #define SEC(name) __attribute__((section(name), used))
    #define __uint(name, value) int (*name)[value]

    static void *(*bpf_ringbuf_reserve)(void *ringbuf, __u64 size, __u64 flags) = (void *)BPF_FUNC_ringbuf_reserve;
    static void (*bpf_ringbuf_submit)(void *data, __u64 flags) = (void *)BPF_FUNC_ringbuf_submit;
    static long (*bpf_loop)(__u32 count, void *callback, void *context, __u64 flags) = (void *)BPF_FUNC_loop;

    struct { __uint(type, BPF_MAP_TYPE_RINGBUF); __uint(max_entries, 1 << 24); } ring SEC(".maps");

    struct arguments { __u32 count; };

    static long produce_one(__u32 index, void *context) {
        __u64 *record = bpf_ringbuf_reserve(&ring, 64, 0);
        if (!record) return 1; // full: stop, and let the caller see how many went in
        record[0] = index;
        record[7] = ~(__u64)index;
        // The reader polls; waking it for each record would measure wakeups instead.
        bpf_ringbuf_submit(record, BPF_RB_NO_WAKEUP);
        return 0;
    }

    SEC("syscall")
    int produce(struct arguments *arguments) {
        return bpf_loop(arguments->count, produce_one, 0, 0);
    }

    char LICENSE[] SEC("license") = "GPL";
    """#

    static func run() throws {
        print("suite ringbuf: RingBuffer.consume of 64-byte records from a kernel ring buffer (release build)")
        let program: KernelProgram
        let map: Map
        do {
            (program, map) = try load()
        } catch {
            print("skipped: \(error)")
            return
        }
        defer {
            program.close()
            map.close()
        }
        let ring = try RingBuffer(map)
        defer { ring.close() }

        print(pad("mode", 26, left: true) + pad("records", 12) + pad("M records/s", 14) + pad("ns/record", 12))
        // The reader alone: fill the ring, then time draining it.
        var drained = 0
        var drainTime = Duration.zero
        var filled = 0
        var fillTime = Duration.zero
        var checksum: UInt64 = 0
        let clock = ContinuousClock()
        for _ in 0..<40 {
            var produced = 0
            let start = clock.now
            while true {
                let added = try produce(program, count: 1 << 20)
                produced += added
                if added < 1 << 20 { break }
            }
            fillTime += clock.now - start
            filled += produced
            let elapsed = clock.measure {
                drained += ring.consume { record in checksum &+= record.load(as: UInt64.self) }
            }
            drainTime += elapsed
            if produced == 0 { break }
        }
        report("drain a full ring", records: drained, time: drainTime)
        report("(kernel producer alone)", records: filled, time: fillTime)

        // A producer thread and the reader at once, for one second.
        let shared = ProducerState()
        let producer = Thread {
            while !shared.stop.load(ordering: .relaxed) {
                let added = (try? produce(program, count: 1 << 16)) ?? 0
                shared.produced.add(added, ordering: .relaxed)
            }
        }
        var consumed = 0
        let start = clock.now
        producer.start()
        while clock.now - start < .seconds(1) {
            let count = ring.consume { record in checksum &+= record.load(as: UInt64.self) }
            consumed += count
            // Nothing yet: let the producer have the CPU (the machine may have fewer cores
            // than busy threads).
            if count == 0 { sched_yield() }
        }
        shared.stop.store(true, ordering: .relaxed)
        let elapsed = clock.now - start
        Thread.sleep(forTimeInterval: 0.05)
        consumed += ring.consume { record in checksum &+= record.load(as: UInt64.self) }
        report("producer thread + reader", records: consumed, time: elapsed)
        print("  producer submitted \(shared.produced.load(ordering: .relaxed)) records (stopping when the ring was full); checksum \(checksum & 0xffff)")
    }

    static func report(_ mode: String, records: Int, time: Duration) {
        let seconds = Double(time.components.seconds) + Double(time.components.attoseconds) / 1e18
        let perSecond = seconds > 0 ? Double(records) / seconds : 0
        print(pad(mode, 26, left: true) + pad(String(records), 12) + pad(format(perSecond / 1e6, decimals: 1), 14)
              + pad(format(perSecond > 0 ? 1e9 / perSecond : 0, decimals: 2), 12))
    }

    /// Runs the producer for up to `count` records; returns how many it submitted.
    static func produce(_ program: KernelProgram, count: UInt32) throws -> Int {
        let context = withUnsafeBytes(of: count) { Array($0) }
        let result = try SystemCall.testRun(program: program.fileDescriptor.rawValue,
                                            SystemCall.TestRunOptions(dataOutCapacity: 0, context: context, contextOutCapacity: 0, repeatCount: 0))
        // bpf_loop counts the iteration that found the ring full.
        let loops = Int(Int32(bitPattern: result.returnValue))
        return loops < Int(count) ? max(0, loops - 1) : loops
    }

    static func load() throws -> (KernelProgram, Map) {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("swiftbpf-ringbuf-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let sourcePath = directory.appendingPathComponent("ringbuf.bpf.c").path
        let objectPath = directory.appendingPathComponent("ringbuf.bpf.o").path
        try source.write(toFile: sourcePath, atomically: true, encoding: .utf8)
        let clang = Process()
        clang.executableURL = URL(fileURLWithPath: "/opt/swift/usr/bin/clang")
        clang.arguments = ["-target", "bpf", "-O2", "-g", "-c", "-I/usr/include/x86_64-linux-gnu", sourcePath, "-o", objectPath]
        try clang.run()
        clang.waitUntilExit()
        guard clang.terminationStatus == 0 else { throw BenchmarkFailure(description: "clang could not build the producer") }
        let object = try ObjectFile(parsing: Array(try Data(contentsOf: URL(fileURLWithPath: objectPath))), name: "ringbuf")
        guard let spec = object.programs.first(where: { $0.name == "produce" }), let ringSpec = object.maps.first else {
            throw BenchmarkFailure(description: "the producer object lacks its program or map")
        }
        let map = try Map(type: ringSpec.type, keySize: 0, valueSize: 0, maxEntries: Int(ringSpec.maxEntries), name: ringSpec.name)
        // bpf_loop's callback is a function of its own: the kernel wants BTF func info.
        let btf = try LoadedBTF(object: object)
        defer { btf.close() }
        return (try KernelProgram(spec, maps: [map], btf: btf), map)
    }

    final class ProducerState: Sendable {
        let stop = Atomic<Bool>(false)
        let produced = Atomic<Int>(0)
    }

    struct BenchmarkFailure: Error, CustomStringConvertible {
        var description: String
    }
}
#else
enum RingBufferBenchmark {
    static func run() throws { print("suite ringbuf: Linux only") }
}
#endif
