// Loads hello.bpf.c into the kernel through its generated skeleton, attaches it to the
// openat tracepoint, and prints what it reports for five seconds.
#if os(Linux)
import BPFLinux
import Glibc

do {
    // Load: the object's maps are created and its program checked by the verifier.
    let hello = try HelloSkeleton()
    defer { hello.close() }
    // Attach: SEC("tracepoint/syscalls/sys_enter_openat") says where.
    let links = try hello.attach()
    defer { for link in links { link.close() } }
    // Read: each record is the C program's struct event.
    let events = try RingBuffer(hello.maps.events)
    defer { events.close() }
    let clock = ContinuousClock()
    let end = clock.now.advanced(by: .seconds(5))
    while clock.now < end {
        _ = events.poll(timeout: .milliseconds(100)) { record in
            guard record.count >= 24 else { return }
            let pid = record.loadUnaligned(fromByteOffset: 0, as: UInt32.self)
            print("pid \(pid): \(text(record, 8, 16)) opened \(text(record, 24, 256))")
        }
    }
    print("lost events: \(try hello.globals.lost_events.get())")
} catch {
    print("hello: \(error)")
    exit(1)
}

/// The NUL-terminated string in `count` bytes at `offset`.
func text(_ record: UnsafeRawBufferPointer, _ offset: Int, _ count: Int) -> String {
    let field = record[offset..<min(offset + count, record.count)]
    return String(decoding: field.prefix { $0 != 0 }, as: UTF8.self)
}
#else
print("HelloBPF runs on Linux: there is no eBPF kernel to load into here.")
#endif
