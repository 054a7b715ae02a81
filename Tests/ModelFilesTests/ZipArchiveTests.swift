import Foundation
import TestSupport
import XCTest

@testable import ModelFiles

/// Builds small zip files by hand, with ZIP64 records on request, for the reader's tests.
struct ZipTestBuilder {
    struct Record {
        var name: String
        var data: [UInt8]
        var method: UInt16 = 0
        /// Overrides the CRC-32 written for this record.
        var crc: UInt32?
        /// Padding in the local header's extra field (torch aligns its records this way).
        var localPadding = 0
    }

    var records: [Record] = []
    /// Write sizes and offsets as 0xFFFFFFFF with ZIP64 extra fields and end records.
    var zip64 = false

    mutating func add(_ name: String, _ data: [UInt8], method: UInt16 = 0, localPadding: Int = 0) {
        records.append(Record(name: name, data: data, method: method, localPadding: localPadding))
    }

    func build() -> [UInt8] {
        var out: [UInt8] = []
        var central: [UInt8] = []
        for record in records {
            let offset = out.count
            let name = Array(record.name.utf8)
            let crc = record.crc ?? ZipCRC32.checksum(record.data)
            out += le32(0x0403_4b50)
            out += le16(zip64 ? 45 : 20) + le16(0x0800) + le16(record.method) + le16(0) + le16(0x21)
            out += le32(crc)
            out += le32(zip64 ? 0xFFFF_FFFF : UInt32(record.data.count))
            out += le32(zip64 ? 0xFFFF_FFFF : UInt32(record.data.count))
            var localExtra: [UInt8] = []
            if zip64 { localExtra += le16(1) + le16(16) + le64(UInt64(record.data.count)) + le64(UInt64(record.data.count)) }
            if record.localPadding > 0 {
                localExtra += le16(0x4654) + le16(UInt16(record.localPadding)) + [UInt8](repeating: 0x5A, count: record.localPadding)
            }
            out += le16(UInt16(name.count)) + le16(UInt16(localExtra.count)) + name + localExtra
            out += record.data

            var extra: [UInt8] = []
            if zip64 {
                extra += le16(1) + le16(24) + le64(UInt64(record.data.count)) + le64(UInt64(record.data.count))
                extra += le64(UInt64(offset))
            }
            central += le32(0x0201_4b50) + le16(45) + le16(zip64 ? 45 : 20) + le16(0x0800) + le16(record.method)
            central += le16(0) + le16(0x21) + le32(crc)
            central += le32(zip64 ? 0xFFFF_FFFF : UInt32(record.data.count))
            central += le32(zip64 ? 0xFFFF_FFFF : UInt32(record.data.count))
            central += le16(UInt16(name.count)) + le16(UInt16(extra.count)) + le16(0) + le16(0) + le16(0) + le32(0)
            central += le32(zip64 ? 0xFFFF_FFFF : UInt32(offset))
            central += name + extra
        }
        let directoryOffset = out.count
        out += central
        if zip64 {
            let record64 = out.count
            out += le32(0x0606_4b50) + le64(44) + le16(45) + le16(45) + le32(0) + le32(0)
            out += le64(UInt64(records.count)) + le64(UInt64(records.count))
            out += le64(UInt64(central.count)) + le64(UInt64(directoryOffset))
            out += le32(0x0706_4b50) + le32(0) + le64(UInt64(record64)) + le32(1)
        }
        out += le32(0x0605_4b50) + le16(0) + le16(0)
        out += le16(zip64 ? 0xFFFF : UInt16(records.count)) + le16(zip64 ? 0xFFFF : UInt16(records.count))
        out += le32(zip64 ? 0xFFFF_FFFF : UInt32(central.count))
        out += le32(zip64 ? 0xFFFF_FFFF : UInt32(directoryOffset))
        out += le16(0)
        return out
    }

    /// The records of an existing zip (stored ones only), to rebuild it with changes.
    static func records(of bytes: [UInt8]) throws -> [Record] {
        let zip = try ZipArchive(bytes: ZipFileBytes(copying: bytes), source: "rebuild")
        var result: [Record] = []
        for entry in zip.entries {
            result.append(Record(name: entry.name, data: Array(try zip.storedBytes(of: entry))))
        }
        return result
    }

    private func le16(_ v: UInt16) -> [UInt8] { [UInt8(v & 0xFF), UInt8(v >> 8)] }
    private func le32(_ v: UInt32) -> [UInt8] { (0..<4).map { UInt8((v >> (8 * $0)) & 0xFF) } }
    private func le64(_ v: UInt64) -> [UInt8] { (0..<8).map { UInt8((v >> (8 * UInt64($0))) & 0xFF) } }
}

final class ZipArchiveTests: XCTestCase {
    private func archive(_ bytes: [UInt8], source: String = "test.zip") throws(ModelFileError) -> ZipArchive {
        try ZipArchive(bytes: ZipFileBytes(copying: bytes), source: source)
    }

    private func assertMalformed(
        _ bytes: [UInt8], containing text: String, file: StaticString = #filePath, line: UInt = #line
    ) {
        do {
            _ = try archive(bytes)
            XCTFail("expected an error containing '\(text)'", file: file, line: line)
        } catch {
            XCTAssertTrue(error.description.contains(text), "\(error)", file: file, line: line)
            XCTAssertTrue(error.description.hasPrefix("test.zip: "), "\(error)", file: file, line: line)
        }
    }

    func testReadsStoredRecordsAndChecksums() throws {
        var builder = ZipTestBuilder()
        builder.add("arch/data.pkl", Array("hello".utf8))
        builder.add("arch/data/0", [1, 2, 3, 4, 5, 6, 7, 8], localPadding: 37)
        builder.add("arch/empty", [])
        let zip = try archive(builder.build())
        XCTAssertEqual(zip.entries.map(\.name), ["arch/data.pkl", "arch/data/0", "arch/empty"])
        let entry = try XCTUnwrap(zip.entry(named: "arch/data/0"))
        XCTAssertEqual(Array(try zip.storedBytes(of: entry)), [1, 2, 3, 4, 5, 6, 7, 8])
        XCTAssertNoThrow(try zip.verifyChecksum(of: entry))
        XCTAssertEqual(Array(try zip.storedBytes(of: try XCTUnwrap(zip.entry(named: "arch/empty")))), [])
        XCTAssertNil(zip.entry(named: "arch/data/1"))
        XCTAssertEqual(ZipCRC32.checksum(Array("123456789".utf8)), 0xCBF4_3926)
    }

    func testReadsZip64() throws {
        var builder = ZipTestBuilder()
        builder.zip64 = true
        builder.add("big/data.pkl", Array("pickle".utf8))
        builder.add("big/data/0", [UInt8](repeating: 7, count: 300), localPadding: 10)
        let zip = try archive(builder.build())
        XCTAssertEqual(zip.entries.count, 2)
        let entry = try XCTUnwrap(zip.entry(named: "big/data/0"))
        XCTAssertEqual(entry.uncompressedSize, 300)
        XCTAssertEqual(Array(try zip.storedBytes(of: entry)), [UInt8](repeating: 7, count: 300))
        XCTAssertNoThrow(try zip.verifyChecksum(of: entry))
    }

    func testRejectsCompressedEntries() throws {
        var builder = ZipTestBuilder()
        builder.add("a/data.pkl", [0x80, 0x02, 0x4E, 0x2E], method: 8)
        let zip = try archive(builder.build())
        let entry = try XCTUnwrap(zip.entry(named: "a/data.pkl"))
        XCTAssertThrowsError(try zip.storedBytes(of: entry)) { error in
            guard case .unsupported(let file, let reason)? = error as? ModelFileError else { return XCTFail("\(error)") }
            XCTAssertEqual(file, "test.zip")
            XCTAssertTrue(reason.contains("compressed"), reason)
            XCTAssertTrue(reason.contains("deflate"), reason)
        }
    }

    func testDetectsChecksumMismatch() throws {
        var builder = ZipTestBuilder()
        builder.records.append(.init(name: "x", data: [1, 2, 3], crc: 12345))
        let zip = try archive(builder.build())
        XCTAssertThrowsError(try zip.verifyChecksum(of: try XCTUnwrap(zip.entry(named: "x")))) { error in
            XCTAssertTrue("\(error)".contains("CRC-32"), "\(error)")
        }
    }

    func testRejectsBrokenStructure() {
        var builder = ZipTestBuilder()
        builder.add("arch/data.pkl", Array("0123456789".utf8))
        builder.add("arch/data/0", [UInt8](repeating: 1, count: 16))
        let good = builder.build()

        assertMalformed([], containing: "too short")
        assertMalformed(Array("not a zip file at all, really not a zip".utf8), containing: "no end of central directory")

        // Central directory offset past the end record.
        var bad = good
        let eocd = good.count - 22
        bad[eocd + 16] = 0xFF
        bad[eocd + 17] = 0xFF
        assertMalformed(bad, containing: "central directory")

        // Local header with a different name.
        bad = good
        bad[30] = UInt8(ascii: "X")
        assertMalformed(bad, containing: "different name")

        // More entries claimed than there are.
        bad = good
        bad[eocd + 8] = 3
        bad[eocd + 10] = 3
        assertMalformed(bad, containing: "3 entries")

        // A record whose size runs past the data.
        var huge = ZipTestBuilder()
        huge.add("a", [1, 2, 3])
        bad = huge.build()
        // compressed and uncompressed size in the central header (after 33 bytes of local header + data).
        let centralStart = 30 + 1 + 3
        bad[centralStart + 20] = 0xF0
        bad[centralStart + 24] = 0xF0
        assertMalformed(bad, containing: "runs past")

        // Duplicate names.
        var twice = ZipTestBuilder()
        twice.add("same", [1])
        twice.add("same", [2])
        assertMalformed(twice.build(), containing: "duplicate")

        // Multi-disk.
        bad = good
        bad[eocd + 4] = 1
        XCTAssertThrowsError(try archive(bad)) { error in XCTAssertTrue("\(error)".contains("multi-disk"), "\(error)") }
    }

    func testEveryTruncationFailsCleanly() {
        var builder = ZipTestBuilder()
        builder.add("arch/data.pkl", Array("0123456789".utf8))
        builder.add("arch/data/0", [UInt8](repeating: 1, count: 16), localPadding: 5)
        let good = builder.build()
        for length in 0..<good.count {
            XCTAssertThrowsError(try archive(Array(good[..<length])), "length \(length)")
        }
        var zip64 = builder
        zip64.zip64 = true
        let good64 = zip64.build()
        for length in 0..<good64.count {
            XCTAssertThrowsError(try archive(Array(good64[..<length])), "zip64 length \(length)")
        }
    }

    func testRandomCorruptionNeverCrashes() {
        var builder = ZipTestBuilder()
        builder.zip64 = true
        builder.add("arch/data.pkl", Array("0123456789".utf8))
        builder.add("arch/data/0", [UInt8](repeating: 1, count: 16), localPadding: 5)
        var plain = builder
        plain.zip64 = false
        var rng = SplitMix64(seed: 0x5EED)
        for good in [builder.build(), plain.build()] {
            for _ in 0..<3000 {
                var bytes = good
                for _ in 0..<Int.random(in: 1...3, using: &rng) {
                    bytes[Int.random(in: 0..<bytes.count, using: &rng)] = UInt8.random(in: 0...255, using: &rng)
                }
                if let zip = try? archive(bytes) {
                    for entry in zip.entries { _ = try? zip.verifyChecksum(of: entry) }
                }
            }
        }
    }
}
