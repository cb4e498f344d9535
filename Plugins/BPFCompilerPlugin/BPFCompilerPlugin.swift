import Foundation
import PackagePlugin

/// Compiles every `*.bpf.c` under a target's folder with the toolchain's clang
/// (`-target bpf -O2 -g`) and generates a Swift skeleton for each object, both done by
/// `swiftbpf-skeleton`, plus one support file the skeletons share.
///
/// SwiftPM refuses C files in a Swift target, so the target excludes the folder that
/// holds them (`exclude: ["bpf"]`); the plugin finds them on disk itself. Include paths:
/// the folder of each source, SwiftBPF's `<swiftbpf/helpers.h>`, and the system's
/// `/usr/include` for the kernel's UAPI headers (`linux/bpf.h`). Kernel structures come
/// from small `preserve_access_index` declarations (CO-RE), not from this machine's BTF,
/// so nothing here needs /sys/kernel/btf. On hosts other than Linux there is no kernel to
/// load into: the plugin generates nothing, and code using skeletons sits behind
/// `#if os(Linux)` as the generated files do.
@main
struct BPFCompilerPlugin: BuildToolPlugin {
    func createBuildCommands(context: PluginContext, target: Target) throws -> [Command] {
        #if os(Linux)
        guard target is SourceModuleTarget else { return [] }
        // `directory` is deprecated, but its successor needs tools version 6.1 (this package is 6.0).
        let sources = Self.files(under: URL(fileURLWithPath: "\(target.directory)"), suffix: ".bpf.c")
        guard !sources.isEmpty else { return [] }
        let clang = try context.tool(named: "clang").url
        let generator = try context.tool(named: "swiftbpf-skeleton").url
        let output = context.pluginWorkDirectoryURL
        let helpers = try Self.helpersDirectory(context.package)
        let sourceFolders = Set(sources.map { $0.deletingLastPathComponent() })
        // Any header next to a source or in SwiftBPF's helpers may be included; SwiftPM has
        // no dependency files for plugin commands, so all of them are inputs.
        let headers = (sourceFolders.map { Self.files(under: $0, suffix: ".h") } + [Self.files(under: helpers, suffix: ".h")]).flatMap { $0 }
        let includes = sourceFolders.sorted { $0.path < $1.path }.map { "-I" + $0.path }
            + ["-I" + helpers.path, "-I/usr/include/\(Self.multiarch)-linux-gnu", "-I/usr/include"]

        let support = output.appendingPathComponent("BPFSkeletonSupport.swift")
        var commands: [Command] = [
            .buildCommand(displayName: "Generating BPF skeleton support for \(target.name)", executable: generator,
                          arguments: ["--support", support.path], inputFiles: [], outputFiles: [support]),
        ]
        for source in sources {
            let name = String(source.lastPathComponent.dropLast(".bpf.c".count))
            let skeleton = output.appendingPathComponent("\(name).skeleton.swift")
            // One command compiles and generates: a declared object output would be copied
            // into a resource bundle.
            commands.append(.buildCommand(
                displayName: "Compiling eBPF \(source.lastPathComponent) and generating its skeleton", executable: generator,
                arguments: [source.path, skeleton.path, clang.path, "-target", "bpf", "-O2", "-g", "-Wall",
                            "-D__TARGET_ARCH_\(Self.targetArch)"] + includes,
                inputFiles: [source] + headers, outputFiles: [skeleton]))
        }
        return commands
        #else
        return []
        #endif
    }

    /// Files whose names end in `suffix` anywhere under `folder`, in a stable order.
    static func files(under folder: URL, suffix: String) -> [URL] {
        guard let walker = FileManager.default.enumerator(at: folder, includingPropertiesForKeys: nil, options: [.skipsHiddenFiles]) else { return [] }
        return walker.compactMap { $0 as? URL }.filter { $0.lastPathComponent.hasSuffix(suffix) }.sorted { $0.path < $1.path }
    }

    /// `Plugins/BPFCompilerPlugin/include` of the SwiftBPF package: this package or one it
    /// depends on, directly or not.
    static func helpersDirectory(_ package: Package) throws -> URL {
        var queue = [package]
        var seen: Set<String> = []
        while !queue.isEmpty {
            let candidate = queue.removeFirst()
            guard seen.insert(candidate.id).inserted else { continue }
            let folder = URL(fileURLWithPath: "\(candidate.directory)").appendingPathComponent("Plugins/BPFCompilerPlugin/include")
            if candidate.displayName == "SwiftBPF", FileManager.default.fileExists(atPath: folder.path) { return folder }
            queue += candidate.dependencies.map(\.package)
        }
        throw PluginError(description: "BPFCompilerPlugin: SwiftBPF's headers (Plugins/BPFCompilerPlugin/include) were not found among the package's dependencies")
    }

    #if arch(x86_64)
    static let multiarch = "x86_64"
    static let targetArch = "x86"
    #elseif arch(arm64)
    static let multiarch = "aarch64"
    static let targetArch = "arm64"
    #else
    static let multiarch = "unknown"
    static let targetArch = "unknown"
    #endif
}

struct PluginError: Error, CustomStringConvertible {
    var description: String
}
