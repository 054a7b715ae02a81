#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// Read-only bytes of a whole file: memory-mapped from disk, or a private copy of an in-memory
/// buffer. Never written after creation, so sharing it between threads is safe.
final class ZipFileBytes: @unchecked Sendable {
    private let base: UnsafeRawPointer?
    let count: Int
    private let isMapped: Bool

    /// Maps `path` read-only.
    init(mapping path: String) throws(ModelFileError) {
        let fd = open(path, O_RDONLY)
        guard fd >= 0 else { throw .cannotOpen(file: path, reason: Self.lastError()) }
        defer { _ = close(fd) }
        var status = stat()
        guard fstat(fd, &status) == 0 else { throw .cannotOpen(file: path, reason: Self.lastError()) }
        guard (status.st_mode & S_IFMT) == S_IFREG else {
            throw .cannotOpen(file: path, reason: "not a regular file")
        }
        guard let size = Int(exactly: status.st_size), size >= 0 else {
            throw .cannotOpen(file: path, reason: "unusable file size \(status.st_size)")
        }
        if size == 0 {
            base = nil
            count = 0
            isMapped = false
            return
        }
        guard let pointer = mmap(nil, size, PROT_READ, MAP_PRIVATE, fd, 0),
            pointer != UnsafeMutableRawPointer(bitPattern: -1)
        else { throw .cannotOpen(file: path, reason: "mmap failed: \(Self.lastError())") }
        base = UnsafeRawPointer(pointer)
        count = size
        isMapped = true
    }

    /// A private copy of `bytes` (tests, in-memory data).
    init(copying bytes: [UInt8]) {
        count = bytes.count
        isMapped = false
        if bytes.isEmpty {
            base = nil
        } else {
            let memory = UnsafeMutableRawPointer.allocate(byteCount: bytes.count, alignment: 16)
            bytes.withUnsafeBytes { source in
                if let start = source.baseAddress { memory.copyMemory(from: start, byteCount: source.count) }
            }
            base = UnsafeRawPointer(memory)
        }
    }

    deinit {
        guard let base else { return }
        if isMapped {
            _ = munmap(UnsafeMutableRawPointer(mutating: base), count)
        } else {
            UnsafeMutableRawPointer(mutating: base).deallocate()
        }
    }

    /// The whole file. Valid while `self` is alive.
    var buffer: UnsafeRawBufferPointer { UnsafeRawBufferPointer(start: base, count: count) }

    private static func lastError() -> String { String(cString: strerror(errno)) }
}

/// One record of a zip file, as its central directory and local header describe it.
struct ZipEntry: Sendable, Equatable {
    let name: String
    /// 0 = stored, 8 = deflate, ...
    let method: UInt16
    let flags: UInt16
    let crc32: UInt32
    let compressedSize: Int
    let uncompressedSize: Int
    let localHeaderOffset: Int
    /// Where the record's (possibly compressed) bytes start in the file.
    let dataOffset: Int

    var isStored: Bool { method == 0 }
}

/// A strict reader of a zip file's central directory (with ZIP64), over bytes it keeps alive.
/// Every offset and size is checked against the file before use.
struct ZipArchive: Sendable {
    let bytes: ZipFileBytes
    let source: String
    let entries: [ZipEntry]
    private let indexByName: [String: Int]

    static let maximumEntries = 1 << 20

    init(bytes: ZipFileBytes, source: String) throws(ModelFileError) {
        self.bytes = bytes
        self.source = source
        let reader = ZipByteReader(buffer: bytes.buffer, source: source)
        let directory = try Self.findCentralDirectory(reader)
        var entries: [ZipEntry] = []
        var index: [String: Int] = [:]
        var position = directory.offset
        let end = directory.offset + directory.size  // both checked to lie inside the file
        for number in 0..<directory.entryCount {
            let entry = try Self.readCentralHeader(
                reader, at: &position, end: end, number: number, dataLimit: directory.offset)
            guard index[entry.name] == nil else {
                throw reader.malformed("zip: duplicate entry '\(entry.name)'")
            }
            index[entry.name] = entries.count
            entries.append(entry)
        }
        guard position == end else {
            throw reader.malformed("zip: central directory has \(end - position) bytes after its last entry")
        }
        self.entries = entries
        indexByName = index
    }

    func entry(named name: String) -> ZipEntry? {
        indexByName[name].map { entries[$0] }
    }

    /// The bytes of an uncompressed record, inside the mapped file. Valid while `bytes` lives.
    func storedBytes(of entry: ZipEntry) throws(ModelFileError) -> UnsafeRawBufferPointer {
        guard entry.flags & 1 == 0 else {
            throw .unsupported(file: source, reason: "zip entry '\(entry.name)' is encrypted")
        }
        guard entry.isStored else {
            throw .unsupported(
                file: source,
                reason: "zip entry '\(entry.name)' is compressed (method \(entry.method)\(entry.method == 8 ? ", deflate" : "")); "
                    + "torch.save stores records uncompressed: re-save the checkpoint with torch.save instead of re-zipping it")
        }
        // Bounds were checked when the directory was read.
        return UnsafeRawBufferPointer(rebasing: bytes.buffer[entry.dataOffset..<(entry.dataOffset + entry.compressedSize)])
    }

    /// Checks a stored record against the CRC-32 in the central directory. A CRC of 0 means
    /// "not computed" (torch writes that when `config.save.compute_crc32` is off) and passes.
    func verifyChecksum(of entry: ZipEntry) throws(ModelFileError) {
        let data = try storedBytes(of: entry)
        if entry.crc32 == 0 { return }
        let crc = ZipCRC32.checksum(data)
        guard crc == entry.crc32 else {
            throw .malformed(
                file: source,
                reason: "zip entry '\(entry.name)' fails its CRC-32 check (stored \(hex(entry.crc32)), computed \(hex(crc)))")
        }
    }

    // MARK: Central directory

    private struct Directory {
        var entryCount: Int
        var size: Int
        var offset: Int
    }

    private static func findCentralDirectory(_ reader: ZipByteReader) throws(ModelFileError) -> Directory {
        let count = reader.count
        guard count >= 22 else {
            throw reader.malformed("zip: file is \(count) bytes, too short for an end of central directory record")
        }
        // The end record is 22 bytes plus a comment of at most 65535 bytes, at the very end.
        var candidate = count - 22
        let lowest = max(0, count - 22 - 65535)
        var endRecord: Int?
        while candidate >= lowest {
            if reader.buffer[candidate] == 0x50, try reader.u32(candidate) == 0x0605_4b50 {
                let commentLength = Int(try reader.u16(candidate + 20))
                if candidate + 22 + commentLength == count {
                    endRecord = candidate
                    break
                }
            }
            candidate -= 1
        }
        guard let eocd = endRecord else {
            throw reader.malformed("zip: no end of central directory record (not a zip file, or truncated)")
        }
        let disk = try reader.u16(eocd + 4)
        let directoryDisk = try reader.u16(eocd + 6)
        let entriesOnDisk = try reader.u16(eocd + 8)
        let totalEntries = try reader.u16(eocd + 10)
        let size32 = try reader.u32(eocd + 12)
        let offset32 = try reader.u32(eocd + 16)

        var directory = Directory(entryCount: Int(totalEntries), size: Int(size32), offset: Int(offset32))
        var directoryLimit = eocd  // the central directory must end before this

        let locator = eocd - 20
        var hasZip64Locator = false
        if locator >= 0 { hasZip64Locator = try reader.u32(locator) == 0x0706_4b50 }
        let needsZip64 =
            totalEntries == 0xFFFF || entriesOnDisk == 0xFFFF || size32 == 0xFFFF_FFFF
            || offset32 == 0xFFFF_FFFF || disk == 0xFFFF || directoryDisk == 0xFFFF
        if needsZip64 && !hasZip64Locator {
            throw reader.malformed("zip: end record asks for ZIP64 but there is no ZIP64 locator")
        }
        if hasZip64Locator {
            let locatorDisk = try reader.u32(locator + 4)
            let recordOffset = try reader.int64AsOffset(locator + 8, what: "ZIP64 end record offset")
            let totalDisks = try reader.u32(locator + 16)
            guard locatorDisk == 0, totalDisks <= 1 else {
                throw .unsupported(file: reader.source, reason: "zip: multi-disk (spanned) archives are not supported")
            }
            guard recordOffset <= locator - 56 else {
                throw reader.malformed("zip: ZIP64 end record offset \(recordOffset) is out of place")
            }
            guard try reader.u32(recordOffset) == 0x0606_4b50 else {
                throw reader.malformed("zip: no ZIP64 end of central directory record at offset \(recordOffset)")
            }
            let disk64 = try reader.u32(recordOffset + 16)
            let directoryDisk64 = try reader.u32(recordOffset + 20)
            let entriesOnDisk64 = try reader.int64AsOffset(recordOffset + 24, what: "ZIP64 entry count")
            let totalEntries64 = try reader.int64AsOffset(recordOffset + 32, what: "ZIP64 entry count")
            let size64 = try reader.int64AsOffset(recordOffset + 40, what: "ZIP64 central directory size")
            let offset64 = try reader.int64AsOffset(recordOffset + 48, what: "ZIP64 central directory offset")
            guard disk64 == 0, directoryDisk64 == 0, entriesOnDisk64 == totalEntries64 else {
                throw .unsupported(file: reader.source, reason: "zip: multi-disk (spanned) archives are not supported")
            }
            directory = Directory(entryCount: totalEntries64, size: size64, offset: offset64)
            directoryLimit = recordOffset
        } else {
            guard disk == 0, directoryDisk == 0, entriesOnDisk == totalEntries else {
                throw .unsupported(file: reader.source, reason: "zip: multi-disk (spanned) archives are not supported")
            }
        }
        guard directory.entryCount <= maximumEntries else {
            throw reader.malformed("zip: \(directory.entryCount) entries, more than the limit of \(maximumEntries)")
        }
        guard directory.offset <= directoryLimit, directory.size <= directoryLimit - directory.offset else {
            throw reader.malformed(
                "zip: central directory (offset \(directory.offset), \(directory.size) bytes) does not fit before its end record at \(directoryLimit)"
            )
        }
        guard directory.entryCount <= directory.size / 46 else {
            throw reader.malformed("zip: \(directory.entryCount) entries cannot fit in a \(directory.size)-byte central directory")
        }
        return directory
    }

    private static func readCentralHeader(
        _ reader: ZipByteReader, at position: inout Int, end: Int, number: Int, dataLimit: Int
    ) throws(ModelFileError) -> ZipEntry {
        let start = position
        guard end - start >= 46 else { throw reader.malformed("zip: central directory entry \(number) is truncated") }
        guard try reader.u32(start) == 0x0201_4b50 else {
            throw reader.malformed("zip: bad signature for central directory entry \(number) at offset \(start)")
        }
        let flags = try reader.u16(start + 8)
        let method = try reader.u16(start + 10)
        let crc = try reader.u32(start + 16)
        let compressed32 = try reader.u32(start + 20)
        let uncompressed32 = try reader.u32(start + 24)
        let nameLength = Int(try reader.u16(start + 28))
        let extraLength = Int(try reader.u16(start + 30))
        let commentLength = Int(try reader.u16(start + 32))
        let diskStart = try reader.u16(start + 34)
        let localOffset32 = try reader.u32(start + 42)
        let total = 46 + nameLength + extraLength + commentLength
        guard end - start >= total else {
            throw reader.malformed("zip: central directory entry \(number) runs past the directory")
        }
        let nameBytes = try reader.bytes(start + 46, count: nameLength)
        let name = String(decoding: nameBytes, as: UTF8.self)
        guard Array(name.utf8) == nameBytes else {
            throw reader.malformed("zip: entry \(number) has a name that is not valid UTF-8")
        }
        var uncompressed = Int(uncompressed32)
        var compressed = Int(compressed32)
        var localOffset = Int(localOffset32)
        var disk = UInt32(diskStart)

        // Extra fields: only ZIP64 (id 1) matters; it holds the fields whose 32-bit value is all ones.
        var extra = start + 46 + nameLength
        let extraEnd = extra + extraLength
        while extra < extraEnd {
            guard extraEnd - extra >= 4 else { throw reader.malformed("zip: entry '\(name)' has a truncated extra field") }
            let id = try reader.u16(extra)
            let size = Int(try reader.u16(extra + 2))
            guard extraEnd - extra - 4 >= size else {
                throw reader.malformed("zip: entry '\(name)' has an extra field running past its end")
            }
            if id == 0x0001 {
                var field = extra + 4
                let fieldEnd = field + size
                func next(_ what: String) throws(ModelFileError) -> Int {
                    guard fieldEnd - field >= 8 else {
                        throw reader.malformed("zip: entry '\(name)' has a ZIP64 field too short for its \(what)")
                    }
                    defer { field += 8 }
                    return try reader.int64AsOffset(field, what: "ZIP64 \(what) of '\(name)'")
                }
                if uncompressed32 == 0xFFFF_FFFF { uncompressed = try next("size") }
                if compressed32 == 0xFFFF_FFFF { compressed = try next("compressed size") }
                if localOffset32 == 0xFFFF_FFFF { localOffset = try next("header offset") }
                if diskStart == 0xFFFF {
                    guard fieldEnd - field >= 4 else {
                        throw reader.malformed("zip: entry '\(name)' has a ZIP64 field too short for its disk number")
                    }
                    disk = try reader.u32(field)
                }
            }
            extra += 4 + size
        }
        guard disk == 0 else {
            throw .unsupported(file: reader.source, reason: "zip: entry '\(name)' is on another disk (spanned archive)")
        }
        position = start + total

        // The local header: same name, and where the data begins.
        guard localOffset <= dataLimit, dataLimit - localOffset >= 30 else {
            throw reader.malformed("zip: entry '\(name)' has its local header outside the file data (offset \(localOffset))")
        }
        guard try reader.u32(localOffset) == 0x0403_4b50 else {
            throw reader.malformed("zip: entry '\(name)' has no local header at offset \(localOffset)")
        }
        let localMethod = try reader.u16(localOffset + 8)
        let localNameLength = Int(try reader.u16(localOffset + 26))
        let localExtraLength = Int(try reader.u16(localOffset + 28))
        guard localMethod == method else {
            throw reader.malformed("zip: entry '\(name)' has compression method \(method) centrally but \(localMethod) locally")
        }
        let dataOffset = localOffset + 30 + localNameLength + localExtraLength
        guard dataOffset <= dataLimit else {
            throw reader.malformed("zip: entry '\(name)' has a local header running past the file data")
        }
        guard try reader.bytes(localOffset + 30, count: localNameLength) == nameBytes else {
            throw reader.malformed("zip: entry '\(name)' has a different name in its local header")
        }
        guard compressed <= dataLimit - dataOffset else {
            throw reader.malformed(
                "zip: entry '\(name)' (\(compressed) bytes at offset \(dataOffset)) runs past the file data, which ends at \(dataLimit)")
        }
        if method == 0 {
            guard compressed == uncompressed else {
                throw reader.malformed("zip: stored entry '\(name)' has size \(uncompressed) but compressed size \(compressed)")
            }
        }
        return ZipEntry(
            name: name, method: method, flags: flags, crc32: crc, compressedSize: compressed,
            uncompressedSize: uncompressed, localHeaderOffset: localOffset, dataOffset: dataOffset)
    }
}

/// Little-endian reads that check every range first.
struct ZipByteReader {
    let buffer: UnsafeRawBufferPointer
    let source: String

    var count: Int { buffer.count }

    func malformed(_ reason: String) -> ModelFileError { .malformed(file: source, reason: reason) }

    private func check(_ offset: Int, _ length: Int) throws(ModelFileError) {
        guard offset >= 0, length >= 0, offset <= buffer.count, buffer.count - offset >= length else {
            throw malformed("zip: read of \(length) bytes at offset \(offset) is outside the \(buffer.count)-byte file")
        }
    }

    func u16(_ offset: Int) throws(ModelFileError) -> UInt16 {
        try check(offset, 2)
        return UInt16(buffer[offset]) | UInt16(buffer[offset + 1]) << 8
    }

    func u32(_ offset: Int) throws(ModelFileError) -> UInt32 {
        try check(offset, 4)
        var value: UInt32 = 0
        for i in (0..<4).reversed() { value = value << 8 | UInt32(buffer[offset + i]) }
        return value
    }

    func u64(_ offset: Int) throws(ModelFileError) -> UInt64 {
        try check(offset, 8)
        var value: UInt64 = 0
        for i in (0..<8).reversed() { value = value << 8 | UInt64(buffer[offset + i]) }
        return value
    }

    /// A 64-bit size or offset, which must fit in the file.
    func int64AsOffset(_ offset: Int, what: String) throws(ModelFileError) -> Int {
        let value = try u64(offset)
        guard let result = Int(exactly: value), result <= buffer.count else {
            throw malformed("zip: \(what) \(value) is larger than the file")
        }
        return result
    }

    func bytes(_ offset: Int, count length: Int) throws(ModelFileError) -> [UInt8] {
        try check(offset, length)
        return Array(buffer[offset..<(offset + length)])
    }
}

/// CRC-32 (IEEE 802.3, as zip uses), table-driven.
enum ZipCRC32 {
    static let table: [UInt32] = (0..<256).map { (index: Int) -> UInt32 in
        var value = UInt32(index)
        for _ in 0..<8 { value = value & 1 == 1 ? 0xEDB8_8320 ^ (value >> 1) : value >> 1 }
        return value
    }

    static func checksum(_ data: UnsafeRawBufferPointer) -> UInt32 {
        var crc: UInt32 = 0xFFFF_FFFF
        table.withUnsafeBufferPointer { table in
            for byte in data { crc = table[Int((crc ^ UInt32(byte)) & 0xFF)] ^ (crc >> 8) }
        }
        return crc ^ 0xFFFF_FFFF
    }

    static func checksum(_ data: [UInt8]) -> UInt32 {
        data.withUnsafeBytes { checksum($0) }
    }
}

private func hex(_ value: UInt32) -> String {
    let digits = String(value, radix: 16)
    return "0x" + String(repeating: "0", count: max(0, 8 - digits.count)) + digits
}
