#if os(Linux)
@testable import BPFLinux
import BPFObject
import Foundation
import Testing

private typealias K = KernelTests

/// Whole objects loaded in one call: maps, global data both ways, `.rodata` constants,
/// externs, program-array and map-in-map slots, pinning by name, failures that say where.
@Suite struct CollectionTests {
    @Test func loadsEveryProgramAndMapWithGlobalDataBothWays() throws {
        try K.run {
            try K.withPinDirectory { pins in
                let object = try K.object("collection")
                var options = ObjectCollection.Options(pinDirectory: pins)
                options.setConstant("multiplier", to: UInt64(6))
                let collection = try object.load(options: options)
                defer { collection.close() }

                #expect(collection.programNames == ["tail_target", "jump", "through_inner", "compute"])   // by section
                #expect(collection.programs["not_loaded"] == nil)
                #expect(Set(collection.mapNames).isSuperset(of: ["results", "shared_counts", "inner_a", "outer", "jumps",
                                                                 "collecti.rodata", "collecti.data", "collecti.bss", "collect.kconfig"]))

                // .rodata was set before load and frozen.
                let rodata = try collection.globalData(".rodata")
                #expect(try rodata.value(of: "multiplier", as: UInt64.self) == 6)
                #expect(try collection.map(".rodata").isFrozen)
                #expect(throws: BPFError.self) { try rodata.set("multiplier", to: UInt64(1)) }

                // Swift writes .data, the program reads it; the program writes .bss, Swift reads it.
                let data = try collection.globalData(".data")
                try data.set("input", to: UInt64(7))
                let compute = try collection.program("compute")
                _ = try compute.testRun(context: [])
                let bss = try collection.globalData(".bss")
                #expect(try bss.value(of: "output", as: UInt64.self) == 42)
                #expect(try collection.map("results").lookup(key: K.bytes(UInt32(1))) == K.bytes(UInt64(42)))
                try data.set("input", to: UInt64(5))
                _ = try compute.testRun(context: [])
                #expect(try bss.value(of: "output", as: UInt64.self) == 30)

                // Externs: kconfig from the kernel's configuration and uname, a weak one absent,
                // kfuncs resolved by BTF id.
                #expect(try bss.value(of: "kernel_version", as: UInt64.self) == UInt64(KernelRelease.current.versionCode ?? 0))
                #expect(try bss.value(of: "bpf_syscall_enabled", as: UInt64.self) == 1)
                #expect(try data.value(of: "missing_option", as: UInt64.self) == 0)

                // Program array slot 0 holds tail_target: `jump` tail-calls it (XDP_TX = 3).
                let packet = [UInt8](repeating: 0, count: 64)
                #expect(try collection.program("jump").testRun(data: packet).returnValue == 3)
                // Map-in-map slot 1 holds inner_a; `through_inner` returns inner_a[1].
                try collection.map("inner_a").update(key: K.bytes(UInt32(1)), value: K.bytes(UInt32(2)))
                #expect(try collection.program("through_inner").testRun(data: packet).returnValue == 2)

                // The map pinned by name is in the pin directory.
                #expect(collection.pinnedMaps["shared_counts"] == pins + "/shared_counts")
                #expect(FileManager.default.fileExists(atPath: pins + "/shared_counts"))
            }
        }
    }

    @Test func reusesPinnedMapsAndSaysWhichAttributeDiffers() throws {
        try K.run {
            try K.withPinDirectory { pins in
                let object = try K.object("collection")
                let first = try object.load(options: ObjectCollection.Options(pinDirectory: pins))
                _ = try first.program("compute").testRun(context: [])
                let firstID = try first.map("shared_counts").id
                first.close()

                // The second load finds the pinned map, with the count the first left in it.
                let second = try object.load(options: ObjectCollection.Options(pinDirectory: pins))
                defer { second.close() }
                #expect(second.reusedMaps == ["shared_counts"])
                #expect(try second.map("shared_counts").id == firstID)
                _ = try second.program("compute").testRun(context: [])
                #expect(try second.map("shared_counts").lookup(key: K.bytes(UInt32(1))) == K.bytes(UInt64(2)))

                // A different map pinned under the name is refused, naming what differs.
                try BPFFileSystem.unpin(pins + "/shared_counts")
                let other = try Map(type: .array, keySize: 4, valueSize: 4, maxEntries: 4, name: "shared_counts")
                defer { other.close() }
                try other.pin(at: pins + "/shared_counts")
                let error = #expect(throws: BPFError.self) { try object.load(options: ObjectCollection.Options(pinDirectory: pins)) }
                #expect(error?.description.contains("value size 4 ≠ 8") == true)
                #expect(error?.subject == "shared_counts")
            }
        }
    }

    @Test func pinsProgramsAndMapsUnderADirectory() throws {
        try K.run {
            try K.withPinDirectory { pins in
                let collection = try K.object("collection").load(options: ObjectCollection.Options(pinDirectory: pins))
                defer { collection.close() }
                let paths = try collection.pin(directory: pins + "/all")
                #expect(paths.contains(pins + "/all/compute"))
                #expect(paths.contains(pins + "/all/collecti_bss"))
                #expect(!paths.contains(pins + "/all/shared_counts"))   // already pinned by name
                let reopened = try KernelProgram(pinnedAt: pins + "/all/compute")
                #expect(reopened.id == (try collection.program("compute")).id)
                reopened.close()
                for path in paths { try BPFFileSystem.unpin(path) }
            }
        }
    }

    @Test func requestedProgramsOverrideAutoload() throws {
        try K.run {
            try K.withPinDirectory { pins in
                let options = ObjectCollection.Options(pinDirectory: pins, programs: ["not_loaded", "tail_target"])
                let collection = try K.object("collection").load(options: options)
                defer { collection.close() }
                #expect(collection.programNames.sorted() == ["not_loaded", "tail_target"])
                let missing = #expect(throws: BPFError.self) {
                    try K.object("collection").load(options: ObjectCollection.Options(pinDirectory: pins, programs: ["nope"]))
                }
                #expect(missing?.description.contains("no program 'nope'") == true)
            }
        }
    }

    @Test func constantsAreChecked() throws {
        try K.run {
            let object = try K.object("collection")
            let unknown = #expect(throws: BPFError.self) {
                try object.load(options: ObjectCollection.Options(constants: ["nope": [1]]))
            }
            #expect(unknown?.description.contains("no global variable 'nope'") == true)
            let wrongSize = #expect(throws: BPFError.self) {
                try object.load(options: ObjectCollection.Options(constants: ["multiplier": [1, 2]]))
            }
            #expect(wrongSize?.description.contains("is 8 bytes") == true)
        }
    }

    @Test func aRejectedProgramIsNamedWithTheVerifierLog() throws {
        try K.run {
            let object = try K.object("verifier_reject")
            let error = #expect(throws: BPFError.self) { try object.load() }
            #expect(error?.subject?.contains("program '") == true)
            #expect(error?.log?.isEmpty == false)
        }
    }

    @Test func typedKernelVariable() throws {
        try K.run {
            let object = try K.object("collection_ksym")
            let inKallsyms = (try? String(contentsOfFile: "/proc/kallsyms", encoding: .utf8))?
                .split(separator: "\n").contains { $0.hasSuffix(" bpf_prog_active") } ?? false
            if inKallsyms {
                let collection = try object.load()
                defer { collection.close() }
                _ = try collection.program("read_ksym").testRun(context: [])
                #expect(try collection.globalData(".data").value(of: "prog_active_seen", as: UInt64.self) != 99)
            } else {
                // Resolved by BTF id, but the kernel cannot find its address: the error says so.
                let error = #expect(throws: BPFError.self) { try object.load() }
                #expect(error?.log?.contains("bpf_prog_active") == true)
                #expect(error?.subject?.contains("read_ksym") == true)
            }
        }
    }

    @Test func kconfigFromConfigText() throws {
        let config = KernelConfig(text: "CONFIG_A=y\nCONFIG_B=m\n# CONFIG_C is not set\nCONFIG_D=0x10\nCONFIG_E=\"hi\"\nCONFIG_F=-3\n",
                                  source: "test")
        #expect(try config.value(for: "CONFIG_A", type: .bool, size: 1) == [1])
        #expect(try config.value(for: "CONFIG_B", type: .tristate, size: 4) == [2, 0, 0, 0])
        #expect(try config.value(for: "CONFIG_C", type: .bool, size: 1) == nil)
        #expect(try config.value(for: "CONFIG_D", type: .integer(signed: false), size: 2) == [16, 0])
        #expect(try config.value(for: "CONFIG_E", type: .characterArray, size: 4) == [104, 105, 0, 0])
        #expect(try config.value(for: "CONFIG_F", type: .integer(signed: true), size: 1) == [253])
        #expect(throws: BPFError.self) { try config.value(for: "CONFIG_B", type: .bool, size: 1) }
        #expect(throws: BPFError.self) { try config.value(for: "CONFIG_F", type: .integer(signed: false), size: 4) }
        #expect(KernelRelease(release: "6.18.44-fc").versionCode == 0x06122c)
        #expect(KernelRelease(release: "5.4.300").versionCode == 0x0504ff)
    }

    @Test func runningKernelConfigDecompresses() throws {
        guard FileManager.default.fileExists(atPath: "/proc/config.gz") else { return }
        let config = try KernelConfig.running()
        #expect(config.values["CONFIG_BPF"] == "y")
        // Corrupt gzip input is an error, not a crash.
        #expect(throws: Inflate.Failure.self) { try Inflate.gunzip([0x1f, 0x8b, 8, 0] + [UInt8](repeating: 0xff, count: 40)) }
    }
}
#endif
