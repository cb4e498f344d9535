import BPFInstructions
import BPFObject
import Testing

@Suite struct ByteReaderTests {
    @Test func readsBothByteOrdersAndRefusesOutOfRange() throws {
        let bytes: [UInt8] = [0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x41, 0x42, 0x00]
        var little = ByteReader(bytes)
        #expect(try little.readU16() == 0x0201)
        #expect(try little.readU32() == 0x0605_0403)
        #expect(try ByteReader(bytes, order: .big).u64(at: 0) == 0x0102_0304_0506_0708)
        #expect(try little.cString(at: 8) == "AB")
        let error = #expect(throws: ByteReader.OutOfBounds.self) { try little.u64(at: 4) }
        #expect(error?.offset == 4 && error?.needed == 8 && error?.available == 7)
        #expect(throws: ByteReader.OutOfBounds.self) { try little.u8(at: -1) }
        #expect(throws: ByteReader.OutOfBounds.self) { try little.bytes(at: Int.max - 2, count: 8) }
    }

    @Test func subrangesStayInsideTheirRange() throws {
        let reader = try ByteReader(Array(0..<16)).subrange(at: 4, count: 4)
        #expect(try reader.u8(at: 7) == 7)
        #expect(throws: ByteReader.OutOfBounds.self) { try reader.u8(at: 8) }
        #expect(throws: ByteReader.OutOfBounds.self) { try reader.u8(at: 3) }
        #expect(throws: ByteReader.OutOfBounds.self) { try reader.cString(at: 4) }  // no NUL inside
        #expect(throws: ByteReader.OutOfBounds.self) { try reader.subrange(at: 6, count: 4) }
    }
}
