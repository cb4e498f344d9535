import Foundation
import Testing

/// What a test does when the kernel it needs is not usable: skip with the reason, or fail
/// when SWIFTBPF_REQUIRE_KERNEL=1 says the kernel must be there (as CI sets it).
public enum KernelRequirement {
    public static func unavailable(_ error: any Error, sourceLocation: SourceLocation = #_sourceLocation) {
        if ProcessInfo.processInfo.environment["SWIFTBPF_REQUIRE_KERNEL"] == "1" {
            Issue.record("bpf(2) is required (SWIFTBPF_REQUIRE_KERNEL=1) but failed: \(error)", sourceLocation: sourceLocation)
        } else {
            print("skipped: bpf(2) is not usable here: \(error)")
        }
    }
}
