// swift-tools-version: 6.0
// A package of your own with an eBPF program in C: SwiftBPF's BPFCompilerPlugin compiles
// Sources/HelloBPF/bpf/hello.bpf.c while `swift build` runs and generates HelloSkeleton,
// which main.swift uses. Build and run (Linux, as root):
//   swift build --package-path Examples/HelloBPF
//   sudo swift run --package-path Examples/HelloBPF HelloBPF
import PackageDescription

let package = Package(
    name: "HelloBPF",
    platforms: [.macOS(.v15)],
    dependencies: [
        // In your package: .package(url: "<SwiftBPF's repository>", branch: "main")
        .package(name: "SwiftBPF", path: "../.."),
    ],
    targets: [
        .executableTarget(
            name: "HelloBPF",
            dependencies: [.product(name: "BPFLinux", package: "SwiftBPF"), .product(name: "BPFObject", package: "SwiftBPF")],
            // SwiftPM refuses C files in a Swift target; the plugin finds them itself.
            exclude: ["bpf"],
            plugins: [.plugin(name: "BPFCompilerPlugin", package: "SwiftBPF")]),
    ],
    swiftLanguageModes: [.v6]
)
