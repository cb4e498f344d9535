import BPFObject
import BPFVM
import Foundation
import PacketCapture

/// `swiftbpf run OBJ --program NAME --pcap IN`: an XDP, TC or socket filter program of an
/// object, loaded into the VM, over every packet of a capture; the packets it keeps, as it
/// left them, to `--write`; the count of each verdict and every map's contents at the end.
struct PacketReplay {
    let objectPath: String
    let programName: String?
    let capturePath: String
    let outputPath: String?
    let engine: EngineKind
    let json: Bool

    func run() throws {
        let object: LoadedObject
        do {
            let name = URL(fileURLWithPath: objectPath).lastPathComponent.split(separator: ".").first.map(String.init) ?? ""
            let host = HostEnvironment(trace: { line in printError("trace_printk: \(line)") })
            object = try LoadedObject(bytes: try readFile(objectPath), name: name, engine: engine, host: host)
        } catch let error as RuntimeError {
            throw CommandError("\(objectPath): \(error)")
        }
        let names = object.programNames
        guard let name = programName ?? (names.count == 1 ? names.first : nil) else {
            throw CommandError("\(objectPath): give --program, one of: \(names.isEmpty ? "(none the VM runs)" : names.joined(separator: ", "))")
        }
        let program: LoadedProgram
        do { program = try object.program(named: name) } catch { throw CommandError("\(objectPath): \(error)") }

        var reader: CaptureReader
        do { reader = try CaptureReader(try readFile(capturePath)) } catch let error as CaptureError {
            throw CommandError("\(capturePath): \(error)")
        }
        var writer = outputPath.map { _ in
            CaptureWriter(format: .pcap, linkType: .ethernet, snapshotLength: reader.interfaces.first?.snapshotLength ?? 262_144)
        }
        var verdicts: [UInt64: Int] = [:]
        var notRun = 0, packets = 0
        var failure: String?
        forEachRecord(&reader) { record, data in
            guard failure == nil else { return }
            packets += 1
            guard record.linkType == .ethernet, data.count >= 14, data.count <= program.maximumPacketSize else {
                notRun += 1
                return
            }
            do {
                let verdict = try program.run(packet: data)
                verdicts[verdict, default: 0] += 1
                guard !program.layout.drops(verdict: verdict), writer != nil, let after = program.packet else { return }
                try writer?.write(data: after, timestamp: record.timestamp,
                                  originalLength: record.originalLength - data.count + after.count)
            } catch {
                failure = "packet \(packets): \(error)"
            }
        }
        if let failure { throw CommandError("\(capturePath): \(failure)") }
        if let error = reader.error { throw CommandError("\(capturePath) is damaged after packet \(reader.packetCount): \(error)") }
        if let outputPath, let writer {
            do { try Data(writer.bytes).write(to: URL(fileURLWithPath: outputPath)) } catch {
                throw CommandError("cannot write \(outputPath): \((error as NSError).localizedDescription)")
            }
        }
        let counts = verdicts.sorted { $0.key < $1.key }.map { (program.layout.verdictName($0.key), $0.value) }
        let maps = try object.mapNames.map { name in (name, try MapContents(object: object, name: name)) }
        if json {
            var fields: [String] = ["\"program\":\(quoted(name))", "\"packets\":\(packets)", "\"not_run\":\(notRun)"]
            fields.append("\"verdicts\":{" + counts.map { "\(quoted($0.0)):\($0.1)" }.joined(separator: ",") + "}")
            fields.append("\"maps\":{" + maps.map { "\(quoted($0.0)):\($0.1.json)" }.joined(separator: ",") + "}")
            print("{" + fields.joined(separator: ",") + "}")
        } else {
            print("\(name) over \(packets) packet\(packets == 1 ? "" : "s") of \(capturePath):")
            for (verdict, count) in counts { print("  \(verdict): \(count)") }
            if notRun > 0 { print("  not run: \(notRun) (not Ethernet, or shorter than 14 or longer than \(program.maximumPacketSize) bytes)") }
            for (name, contents) in maps { print("map \(name):\n" + contents.text) }
        }
    }

    @inline(never)
    private func forEachRecord(_ reader: inout CaptureReader, _ body: (PacketRecord, UnsafeRawBufferPointer) -> Void) {
        reader.forEachRecord(body)
    }
}

/// A VM map's entries as `swiftbpf map dump` shows a kernel map's: raw bytes, and read
/// through the map's BTF key and value types when the object has BTF.
struct MapContents {
    var entries: [(key: [UInt8], value: [UInt8], formatted: BTFFormattedValue?)] = []
    /// Why the entries could not be listed.
    var problem: String?
    /// A ring buffer's records, which it keeps instead of entries.
    var records: [[UInt8]]?

    init(object: LoadedObject, name: String) throws {
        guard let spec = object.file.map(named: name) else { return }
        if spec.type == .ringBuffer {
            records = try object.records(ofRingBuffer: name)
            return
        }
        let list: [(key: [UInt8], value: [UInt8])]
        do { list = try object.contents(ofMap: name) } catch {
            problem = "\(error)"
            return
        }
        for (key, value) in list {
            var members: [BTFFormattedMember] = []
            if spec.origin == .globalData, let btf = object.file.btf {
                // Each variable at its symbol's offset: the object's DATASEC still has clang's zero offsets.
                let variables = object.file.globals.filter { object.file.maps.indices.contains($0.mapIndex) && object.file.maps[$0.mapIndex] == spec }
                var formatted: [BTFFormattedValue] = []
                for variable in variables where variable.offset + variable.size <= value.count {
                    guard let type = variable.btfTypeID else { continue }
                    let bytes = Array(value[variable.offset..<variable.offset + variable.size])
                    guard let text = try? btf.formatted(bytes, as: type) else { continue }
                    formatted.append(.object([BTFFormattedMember(name: variable.name, value: text)]))
                }
                members.append(BTFFormattedMember(name: "value", value: .object([BTFFormattedMember(name: spec.sectionName, value: .array(formatted))])))
            } else if let btf = object.file.btf, let valueType = spec.valueTypeID {
                if let keyType = spec.keyTypeID, let formatted = try? btf.formatted(key, as: keyType) {
                    members.append(BTFFormattedMember(name: "key", value: formatted))
                }
                let bytes = Array(value.prefix(Int(spec.valueSize)))
                do { members.append(BTFFormattedMember(name: "value", value: try btf.formatted(bytes, as: valueType))) } catch {
                    throw CommandError("map \(name): the value does not read as its BTF type [\(valueType)]: \(error)")
                }
            }
            entries.append((key, value, members.isEmpty ? nil : .object(members)))
        }
    }

    var text: String {
        if let problem { return "  (\(problem))" }
        if let records {
            let shown = records.prefix(5).map { "  record: " + plainHex($0) }
            return (["  \(records.count) record\(records.count == 1 ? "" : "s")"] + shown
                    + (records.count > 5 ? ["  ..."] : [])).joined(separator: "\n")
        }
        if entries.isEmpty { return "  (empty)" }
        return entries.map { entry in
            if let formatted = entry.formatted { return "  " + formatted.plainText(indent: 2) }
            return "  key: " + plainHex(entry.key) + "  value: " + plainHex(entry.value)
        }.joined(separator: "\n")
    }

    var json: String {
        if let problem { return "{\"error\":\(quoted(problem))}" }
        if let records {
            return "{\"records\":[" + records.map { "[" + hexBytes($0).map { "\"\($0)\"" }.joined(separator: ",") + "]" }.joined(separator: ",") + "]}"
        }
        return "[" + entries.map { entry in
            func list(_ bytes: [UInt8]) -> String { "[" + hexBytes(bytes).map { "\"\($0)\"" }.joined(separator: ",") + "]" }
            var text = "{\"key\":\(list(entry.key)),\"value\":\(list(entry.value))"
            if let formatted = entry.formatted { text += ",\"formatted\":" + formatted.jsonText }
            return text + "}"
        }.joined(separator: ",") + "]"
    }
}

private func plainHex(_ bytes: [UInt8]) -> String { hexBytes(bytes).map { String($0.dropFirst(2)) }.joined(separator: " ") }

private func quoted(_ text: String) -> String {
    (try? jsonText([text])).map { String($0.dropFirst().dropLast()) } ?? "\"\""
}
