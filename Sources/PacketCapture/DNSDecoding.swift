/// DNS messages (RFC 1035) over UDP and TCP, as far as tcpdump's one line shows them: the
/// header, the questions of a query, the answers of a response.
extension PacketDecoding {
    /// `multicast`: mDNS (RFC 6762), whose classes carry a flag in their top bit.
    mutating func dns(at offset: Int, length: Int, overTCP: Bool, multicast: Bool = false) {
        var start = offset
        var length = length
        if overTCP {
            guard length >= 2 else {
                note(" [DNS over TCP: length \(length) < 2] (invalid)")
                return
            }
            length -= 2
            guard let prefix = u16(offset) else {
                truncated("domain")
                return
            }
            guard Int(prefix) == length else {
                note(" [prefix length(\(prefix)) != length(\(length))] (invalid)")
                return
            }
            start += 2
        }
        guard length >= 12 else {
            note((overTCP ? " " : "") + "domain [length \(length) < 12] (invalid)")
            return
        }
        guard has(start, 12), let id = u16(start), let flags = u16(start + 2), let qd = u16(start + 4),
              let an = u16(start + 6), let ns = u16(start + 8), let ar = u16(start + 10)
        else {
            truncated("domain")
            return
        }
        var message = DNSMessage(
            id: id, flags: flags, isResponse: flags & 0x8000 != 0, opcode: Int(flags >> 11 & 0xf),
            responseCode: Int(flags & 0xf), questionCount: Int(qd), answerCount: Int(an), authorityCount: Int(ns),
            additionalCount: Int(ar), questions: [], questionsSkipped: 0, answers: [], length: length, overTCP: overTCP, problem: nil, multicast: multicast)
        message.responseCode |= extendedResponseCode(start, message)
        var cursor = start + 12
        var complete = true
        // Without its fixed fields a record prints as nothing and ends the list.
        func record(_ at: Int) -> (DNSRecord, Int?)? {
            dnsRecord(at: at, message: start, multicast: multicast) ?? (DNSRecord(type: nil, recordClass: 0, data: ""), end)
        }
        if message.isResponse {
            // -vv prints each question after ` q:`; -v steps over them.
            for _ in 0..<message.questionCount {
                message.questionsSkipped += 1
                if verbosity > 1 {
                    guard let (question, next) = dnsQuestion(at: cursor, message: start) else {
                        complete = false
                        break
                    }
                    message.questions.append(question)
                    guard let next else {
                        complete = false
                        break
                    }
                    cursor = next
                } else {
                    guard let next = skipName(cursor) else {
                        complete = false
                        break
                    }
                    cursor = next + 4
                }
            }
            message.questionsComplete = complete
            if complete { complete = walk(message.answerCount, from: &cursor, into: &message.answers, record) }
        } else {
            complete = walk(message.questionCount, from: &cursor, into: &message.questions) { at in
                dnsQuestion(at: at, message: start)
            }
            if complete && verbosity > 1 { complete = walk(message.answerCount, from: &cursor, into: &message.answers, record) }
        }
        // -vv prints the authority and additional sections too, each only if bytes remain.
        if complete && verbosity > 1 {
            complete = walk(message.authorityCount, from: &cursor, into: &message.authorities, whenBytesRemain: true, record)
                && walk(message.additionalCount, from: &cursor, into: &message.additionals, whenBytesRemain: true, record)
        }
        add(.dns(message))
        if !complete { truncated("domain") }
    }

    /// Reads `count` items as tcpdump walks a section: one (`whenBytesRemain`: only if bytes
    /// remain), then more while bytes remain. False when the section was cut short (an item
    /// unreadable or incomplete, or items left).
    func walk<Item>(_ count: Int, from cursor: inout Int, into items: inout [Item], whenBytesRemain: Bool = false, _ read: (Int) -> (Item, Int?)?) -> Bool {
        var left = count
        guard left > 0 else { return true }
        guard !whenBytesRemain || cursor < end else { return false }
        repeat {
            guard let (item, next) = read(cursor) else { return false }
            items.append(item)
            left -= 1
            guard let next else { return false }
            cursor = next
        } while cursor < end && left > 0
        return left == 0
    }

    /// The question at `at`, and where the next one starts (nil when its name was cut short:
    /// the question then holds the part that could be read).
    func dnsQuestion(at offset: Int, message: Int) -> (DNSQuestion, Int?)? {
        guard let afterName = skipName(offset), has(afterName, 4), let type = u16(afterName), let recordClass = u16(afterName + 2) else {
            return nil
        }
        let (name, next) = domainName(at: offset, message: message)
        return (DNSQuestion(name: name, type: type, recordClass: recordClass), next.map { $0 + 4 })
    }

    /// The resource record at `at` as tcpdump prints it without -v, and where the next one
    /// starts (nil when the data was cut short). Nil when not even its fixed fields are there.
    func dnsRecord(at offset: Int, message: Int, multicast: Bool) -> (DNSRecord, Int?)? {
        // tcpdump -v prints each record's name first.
        var name: String?
        if verbosity > 0 {
            let (text, after) = domainName(at: offset, message: message)
            name = text
            if after == nil { return (DNSRecord(type: nil, recordClass: 0, data: "", name: text), nil) }
        }
        guard let cursor = skipName(offset), has(cursor, 10), let type = u16(cursor), let recordClass = u16(cursor + 2),
              let dataLength = u16(cursor + 8).map(Int.init)
        else { return name.map { (DNSRecord(type: nil, recordClass: 0, data: "", name: $0), end) } }
        let data = cursor + 10
        let next = data + dataLength
        var record = DNSRecord(type: type, recordClass: recordClass, data: "", name: name)
        if verbosity > 2 && type != 41 { record.timeToLive = u32(cursor + 4) }
        guard next <= end else { return (record, nil) }
        switch type {
        case 1:
            guard let address = u32(data) else { return (record, nil) }
            record.data = IPv4Address(address).description
        case 2, 5, 12, 39:
            let (name, after) = domainName(at: data, message: message)
            record.data = name
            if after == nil { return (record, nil) }
        case 15:
            guard let preference = u16(data) else { return (record, nil) }
            let (name, after) = domainName(at: data + 2, message: message)
            record.data = name
            if after == nil { return (record, nil) }
            record.data += " \(preference)"
        case 16:
            var strings: [String] = []
            var position = data
            while position < next {
                guard let count = u8(position).map(Int.init) else { return (record, nil) }
                let (text, complete) = printable(position + 1, count)
                strings.append("\"" + text + (complete ? "\"" : ""))
                if !complete {
                    record.data = strings.joined(separator: " ")
                    return (record, nil)
                }
                position += 1 + count
            }
            record.data = strings.joined(separator: " ")
        case 33:
            guard has(data, 6), let priority = u16(data), let weight = u16(data + 2), let port = u16(data + 4) else { return (record, nil) }
            let (name, after) = domainName(at: data + 6, message: message)
            record.data = name
            if after == nil { return (record, nil) }
            record.data += ":\(port) \(priority) \(weight)"
        case 28:
            guard let address = bytes(data, 16) else { return (record, nil) }
            record.data = IPv6Address(address).description
        case 41:
            let optionFlags = u16(cursor + 6) ?? 0
            record.data = "UDPsize=\(multicast ? recordClass & 0x7fff : recordClass)" + (optionFlags & 0x8000 != 0 ? " DO" : "")
            if dataLength > 0 {
                let complete = ednsOptions(&record.data, at: data, end: next)
                if !complete { return (record, nil) }
            }
        case 256:
            guard has(data, 4), let priority = u16(data), let weight = u16(data + 2) else { return (record, nil) }
            let (target, complete) = printable(data + 4, dataLength - 4)
            record.data = "\(priority) \(weight) " + target
            if !complete { return (record, nil) }
        case 6 where verbosity > 0:
            let (primary, afterPrimary) = domainName(at: data, message: message)
            record.data = primary
            guard let afterPrimary else { return (record, nil) }
            let (mailbox, afterMailbox) = domainName(at: afterPrimary, message: message)
            record.data += " " + mailbox
            guard let afterMailbox, has(afterMailbox, 20) else { return (record, nil) }
            for index in 0..<5 { record.data += " \(u32(afterMailbox + 4 * index) ?? 0)" }
        case 38, 103, 104, 250:
            record.data = "[type \(type) data]"
        default:
            break
        }
        return (record, next)
    }

    /// The responseCode's high bits from an OPT record among the additional records; tcpdump
    /// looks for it by skipping every record before, and gives up quietly at damage.
    func extendedResponseCode(_ start: Int, _ message: DNSMessage) -> Int {
        var cursor = start + 12
        for _ in 0..<message.questionCount {
            guard let next = skipName(cursor) else { return 0 }
            cursor = next + 4
            if cursor >= end { return 0 }
        }
        for _ in 0..<(message.answerCount + message.authorityCount) {
            guard let next = skipName(cursor) else { return 0 }
            cursor = next + 8
            guard cursor + 2 <= end, let length = u16(cursor) else { return 0 }
            cursor += 2 + Int(length)
            if cursor >= end { return 0 }
        }
        for _ in 0..<message.additionalCount {
            guard let next = skipName(cursor) else { return 0 }
            cursor = next
            guard cursor + 2 <= end, let type = u16(cursor) else { return 0 }
            cursor += 4
            guard cursor + 1 <= end, let high = u8(cursor) else { return 0 }
            if type == 41 { return Int(high) << 4 }
            cursor += 4
            guard cursor + 2 <= end, let length = u16(cursor) else { return 0 }
            cursor += 2 + Int(length)
            if cursor >= end { return 0 }
        }
        return 0
    }

    /// Where the name at `offset` ends, following no pointers; nil when it cannot be read.
    func skipName(_ offset: Int) -> Int? {
        var cursor = offset
        guard var label = u8(cursor) else { return nil }
        cursor += 1
        while label != 0 {
            switch label & 0xc0 {
            case 0xc0: return cursor + 1
            case 0x40:
                guard label & 0x3f == 0x01, let bits = u8(cursor) else { return nil }
                cursor += 1 + ((bits == 0 ? 256 : Int(bits)) + 7) / 8
            case 0x80: return nil
            default: cursor += Int(label)
            }
            guard let next = u8(cursor) else { return nil }
            label = next
            cursor += 1
        }
        return cursor
    }

    /// A domain name as tcpdump prints it (`www.example.com.`), following compression
    /// pointers only backwards, and where the bytes after it start — nil when the name could
    /// not be read to its end, with the text holding what could.
    func domainName(at offset: Int, message: Int) -> (String, Int?) {
        var text = ""
        var cursor = offset
        guard var length = labelLength(cursor, &text), var label = u8(cursor) else { return (text, nil) }
        var maximumOffset = cursor - message
        cursor += 1
        var compressed = false
        var resume = label & 0xc0 != 0xc0 ? cursor + length : 0
        guard label != 0 else { return (".", resume) }
        var characters = 0
        while label != 0 && cursor < end {
            switch label & 0xc0 {
            case 0xc0:
                if !compressed {
                    resume = cursor + 1
                    compressed = true
                }
                guard let low = u8(cursor) else { return (text, nil) }
                let target = (Int(label) << 8 | Int(low)) & 0x3fff
                guard target < maximumOffset else { return (text + "<BAD PTR>", nil) }
                maximumOffset = target
                cursor = message + target
                guard let next = u8(cursor), let nextLength = labelLength(cursor, &text) else { return (text, nil) }
                label = next
                length = nextLength
                cursor += 1
                continue
            case 0x00:
                if characters + length <= 255 {
                    let (part, complete) = printable(cursor, length)
                    text += part
                    if !complete { return (text, nil) }
                } else if characters < 255 {
                    let (part, complete) = printable(cursor, 255 - characters)
                    text += part
                    if !complete { return (text, nil) }
                }
                characters += length
            default:
                return (text + "<bit label>", nil)
            }
            cursor += length
            if characters <= 255 { text += "." }
            characters += 1
            guard let next = u8(cursor), let nextLength = labelLength(cursor, &text) else { return (text, nil) }
            label = next
            length = nextLength
            cursor += 1
            if !compressed { resume += length + 1 }
        }
        if characters > 255 { text += "<DOMAIN NAME TOO LONG>" }
        return (text, resume)
    }

    /// The length a label byte stands for (its value for ordinary labels and pointers),
    /// or nil with tcpdump's remark added to `text` for label types it rejects.
    func labelLength(_ offset: Int, _ text: inout String) -> Int? {
        guard let label = u8(offset) else { return nil }
        switch label & 0xc0 {
        case 0x40:
            guard label & 0x3f == 0x01 else {
                text += "<ELT \(label & 0x3f)>"
                return nil
            }
            guard let bits = u8(offset + 1) else { return nil }
            return ((bits == 0 ? 256 : Int(bits)) + 7) / 8 + 1
        case 0x80:
            text += "<BAD LABEL TYPE>"
            return nil
        default:
            return Int(label)
        }
    }

    /// `count` bytes at `offset` as tcpdump shows raw text: `M-` for the high bit, `^X` for
    /// control characters; false when the captured bytes ended first.
    func printable(_ offset: Int, _ count: Int) -> (String, Bool) {
        var text = ""
        for index in 0..<max(count, 0) {
            guard var byte = u8(offset + index) else { return (text, false) }
            if byte & 0x80 != 0 {
                byte &= 0x7f
                text += "M-"
            }
            if byte < 0x20 || byte == 0x7f {
                byte ^= 0x40
                text += "^"
            }
            text.unicodeScalars.append(Unicode.Scalar(byte))
        }
        return (text, true)
    }
}
