// swift-tools-version: 6.0
import PackageDescription

let package = Package(
    name: "SwiftBPF",
    platforms: [.macOS(.v15)],
    products: [
        .library(name: "BPFInstructions", targets: ["BPFInstructions"]),
        .library(name: "BPFVM", targets: ["BPFVM"]),
        .library(name: "BPFObject", targets: ["BPFObject"]),
        .library(name: "ClassicBPF", targets: ["ClassicBPF"]),
        .library(name: "PacketFilter", targets: ["PacketFilter"]),
        .library(name: "PacketCapture", targets: ["PacketCapture"]),
        .library(name: "BPFLinux", targets: ["BPFLinux"]),
        .library(name: "BPFVerifier", targets: ["BPFVerifier"]),
        .library(name: "BPFTools", targets: ["BPFTools"]),
        .plugin(name: "BPFCompilerPlugin", targets: ["BPFCompilerPlugin"]),
        .executable(name: "swiftbpf", targets: ["swiftbpf"]),
        .executable(name: "swiftbpf-bench", targets: ["swiftbpf-bench"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
    ],
    targets: [
        .target(name: "BPFInstructions"),
        .target(name: "BPFObject", dependencies: ["BPFInstructions"]),
        .target(name: "ClassicBPF", dependencies: ["BPFInstructions"]),
        .target(name: "PacketFilter", dependencies: ["ClassicBPF", "BPFInstructions"]),
        .target(name: "PacketCapture", dependencies: ["BPFInstructions", "ClassicBPF", "BPFObject", "PacketFilter"]),
        .target(name: "CBPFLinux"),
        .target(name: "BPFLinux", dependencies: ["BPFInstructions", "BPFObject", "CBPFLinux"]),
        .target(name: "BPFVM", dependencies: ["BPFInstructions", "BPFVerifier"]),
        .target(name: "BPFVerifier", dependencies: ["BPFInstructions", "BPFObject"]),
        .executableTarget(name: "swiftbpf-skeleton", dependencies: ["BPFObject"]),
        .plugin(name: "BPFCompilerPlugin", capability: .buildTool(), dependencies: ["swiftbpf-skeleton"], exclude: ["include"]),
        .target(name: "BPFTools", dependencies: ["BPFLinux", "BPFObject"], exclude: ["bpf"], plugins: ["BPFCompilerPlugin"]),
        .executableTarget(
            name: "swiftbpf",
            dependencies: [
                "BPFInstructions", "BPFVM", "BPFObject", "ClassicBPF", "PacketCapture", "BPFLinux", "PacketFilter", "BPFVerifier", "BPFTools",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]),
        .executableTarget(
            name: "swiftbpf-plugin-example", dependencies: ["BPFVM", "BPFVerifier"], path: "Examples/PluginServer",
            exclude: ["request_filter.bpf.c"]),
        .executableTarget(
            name: "swiftbpf-bench",
            dependencies: ["BPFInstructions", "BPFVM", "BPFObject", "ClassicBPF", "PacketCapture", "BPFLinux", "PacketFilter", "BPFVerifier", "BPFTools"],
            path: "Benchmarks/swiftbpf-bench"),
        .testTarget(name: "BPFInstructionsTests", dependencies: ["BPFInstructions"]),
        .testTarget(name: "BPFObjectTests", dependencies: ["BPFInstructions", "BPFObject", "TestPeers"], exclude: ["Fixtures"]),
        .target(name: "TestPeers", path: "Tests/TestPeers"),
        .testTarget(name: "SwiftBPFCLITests", dependencies: ["swiftbpf", "swiftbpf-plugin-example", "BPFInstructions", "TestPeers"]),
        .testTarget(name: "ClassicBPFTests", dependencies: ["ClassicBPF", "BPFInstructions", "BPFVM", "PacketCapture", "PacketFilter", "TestPeers"]),
        .testTarget(name: "PacketFilterTests", dependencies: ["PacketFilter", "ClassicBPF", "PacketCapture", "TestPeers"]),
        .testTarget(name: "PacketCaptureTests", dependencies: ["PacketCapture", "PacketFilter", "BPFObject", "TestPeers"]),
        .testTarget(name: "BPFLinuxTests", dependencies: ["BPFLinux", "BPFObject", "BPFInstructions", "TestPeers"],
                    exclude: ["Fixtures"]),
        .testTarget(name: "BPFToolsTests", dependencies: ["BPFTools", "BPFLinux", "TestPeers", "swiftbpf"]),
        .testTarget(
            name: "BPFVMTests", dependencies: ["BPFInstructions", "BPFVM", "BPFVerifier", "BPFObject", "BPFLinux", "TestPeers"],
            exclude: ["Fixtures"]),
        .testTarget(
            name: "BPFVerifierTests", dependencies: ["BPFVerifier", "BPFInstructions", "BPFObject", "BPFVM", "BPFLinux", "TestPeers"],
            exclude: ["Fixtures"]),
        .testTarget(
            name: "RuntimeAgreementTests", dependencies: ["BPFInstructions", "BPFLinux", "BPFObject", "BPFVM", "PacketCapture", "TestPeers"]),
    ],
    swiftLanguageModes: [.v6]
)
