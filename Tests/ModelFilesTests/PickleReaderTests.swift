import Foundation
import TestSupport
import XCTest

@testable import ModelFiles

/// Writes pickle opcodes by hand.
struct PickleOps {
    var bytes: [UInt8] = []

    mutating func op(_ code: UInt8, _ payload: [UInt8] = []) { bytes += [code] + payload }
    mutating func proto(_ v: UInt8 = 2) { op(0x80, [v]) }
    mutating func stop() { op(0x2E) }
    mutating func mark() { op(0x28) }
    mutating func none() { op(0x4E) }
    mutating func int(_ v: Int) {
        if v >= 0 && v < 256 {
            op(0x4B, [UInt8(v)])
        } else if v >= 0 && v < 65536 {
            op(0x4D, le(UInt64(v), 2))
        } else if Int32(exactly: v) != nil {
            op(0x4A, le(UInt64(UInt32(truncatingIfNeeded: v)), 4))
        } else {
            long1(le(UInt64(bitPattern: Int64(v)), 8))
        }
    }
    mutating func long1(_ payload: [UInt8]) { op(0x8A, [UInt8(payload.count)] + payload) }
    mutating func float(_ v: Double) { op(0x47, (0..<8).map { UInt8((v.bitPattern >> (8 * UInt64(7 - $0))) & 0xFF) }) }
    mutating func string(_ s: String) { op(0x58, le(UInt64(s.utf8.count), 4) + Array(s.utf8)) }
    mutating func shortString(_ s: String) { op(0x8C, [UInt8(s.utf8.count)] + Array(s.utf8)) }
    mutating func global(_ module: String, _ name: String) { op(0x63, Array("\(module)\n\(name)\n".utf8)) }
    mutating func put(_ i: UInt8) { op(0x71, [i]) }
    mutating func get(_ i: UInt8) { op(0x68, [i]) }
    mutating func emptyDict() { op(0x7D) }
    mutating func emptyList() { op(0x5D) }
    mutating func emptyTuple() { op(0x29) }
    mutating func tuple() { op(0x74) }
    mutating func tuple1() { op(0x85) }
    mutating func tuple2() { op(0x86) }
    mutating func tuple3() { op(0x87) }
    mutating func setItems() { op(0x75) }
    mutating func setItem() { op(0x73) }
    mutating func appends() { op(0x65) }
    mutating func append() { op(0x61) }
    mutating func reduce() { op(0x52) }
    mutating func build() { op(0x62) }
    mutating func newObj() { op(0x81) }
    mutating func persid() { op(0x51) }
    mutating func bool(_ b: Bool) { op(b ? 0x88 : 0x89) }

    /// `('storage', torch.<type>, key, 'cpu', numel)` then BINPERSID.
    mutating func storage(_ type: String, key: String, count: Int, module: String = "torch") {
        mark()
        string("storage")
        global(module, type)
        string(key)
        string("cpu")
        int(count)
        tuple()
        persid()
    }

    /// `_rebuild_tensor_v2(storage, offset, size, stride, False, OrderedDict())`.
    mutating func tensor(_ type: String, key: String, count: Int, offset: Int, shape: [Int], stride: [Int]) {
        global("torch._utils", "_rebuild_tensor_v2")
        mark()
        storage(type, key: key, count: count)
        int(offset)
        mark(); for s in shape { int(s) }; tuple()
        mark(); for s in stride { int(s) }; tuple()
        bool(false)
        global("collections", "OrderedDict")
        emptyTuple()
        reduce()
        tuple()
        reduce()
    }

    func le(_ v: UInt64, _ count: Int) -> [UInt8] { (0..<count).map { UInt8((v >> (8 * UInt64($0))) & 0xFF) } }
}

final class PickleReaderTests: XCTestCase {
    private func read(_ ops: PickleOps, limits: PickleLimits = .default) throws(ModelFileError) -> PickleResult {
        try PickleReader(source: "t.pkl", limits: limits).read(ops.bytes)
    }

    private func assertFails(
        _ ops: PickleOps, _ text: String, limits: PickleLimits = .default, file: StaticString = #filePath, line: UInt = #line
    ) {
        do {
            _ = try read(ops, limits: limits)
            XCTFail("expected failure containing '\(text)'", file: file, line: line)
        } catch {
            XCTAssertTrue(error.description.contains(text), "\(error)", file: file, line: line)
            XCTAssertTrue(error.description.hasPrefix("t.pkl: "), "\(error)", file: file, line: line)
        }
    }

    func testScalarsContainersAndMemo() throws {
        var p = PickleOps()
        p.proto()
        p.emptyDict(); p.put(0)
        p.mark()
        p.string("int"); p.int(-5)
        p.string("big"); p.int(70000)
        p.string("neg"); p.long1([0xFF, 0x7F])  // 0x7FFF
        p.string("neg2"); p.long1([0x00, 0x80])  // -32768
        p.string("huge"); p.long1([UInt8](repeating: 0, count: 9) + [1])
        p.string("float"); p.float(1.5)
        p.string("none"); p.none()
        p.string("yes"); p.bool(true)
        p.string("list"); p.emptyList(); p.put(1); p.mark(); p.int(1); p.int(2); p.appends(); p.int(3); p.append()
        p.string("again"); p.get(1)
        p.string("pair"); p.string("a"); p.string("b"); p.tuple2()
        p.setItems()
        p.stop()
        let result = try read(p)
        guard case .dict(let d) = result.root else { return XCTFail("root is \(result.root)") }
        let dict = result.heap.dicts[d]
        XCTAssertEqual(dict.value(forKey: "int"), .int(-5))
        XCTAssertEqual(dict.value(forKey: "big"), .int(70000))
        XCTAssertEqual(dict.value(forKey: "neg"), .int(0x7FFF))
        XCTAssertEqual(dict.value(forKey: "neg2"), .int(-32768))
        XCTAssertEqual(dict.value(forKey: "huge"), .bigInt([UInt8](repeating: 0, count: 9) + [1]))
        XCTAssertEqual(dict.value(forKey: "float"), .float(1.5))
        XCTAssertEqual(dict.value(forKey: "none"), PickleValue.none)
        XCTAssertEqual(dict.value(forKey: "yes"), .bool(true))
        guard case .list(let l)? = dict.value(forKey: "list") else { return XCTFail() }
        XCTAssertEqual(result.heap.lists[l], [.int(1), .int(2), .int(3)])
        // The memo holds the same list, mutated after it was memoized.
        XCTAssertEqual(dict.value(forKey: "again"), .list(l))
        guard case .tuple(let t)? = dict.value(forKey: "pair") else { return XCTFail() }
        XCTAssertEqual(result.heap.tuples[t], [.string("a"), .string("b")])
        XCTAssertTrue(result.placeholders.isEmpty)
    }

    func testProtocol4Opcodes() throws {
        var p = PickleOps()
        p.proto(4)
        p.op(0x95, p.le(40, 8))  // FRAME
        p.shortString("collections"); p.op(0x94)  // MEMOIZE
        p.shortString("OrderedDict"); p.op(0x94)
        p.op(0x93); p.op(0x94)  // STACK_GLOBAL
        p.emptyTuple(); p.reduce(); p.op(0x94)
        p.shortString("k"); p.op(0x94); p.op(0x4B, [9]); p.setItem()
        p.stop()
        let result = try read(p)
        guard case .dict(let d) = result.root else { return XCTFail("\(result.root)") }
        XCTAssertEqual(result.heap.dicts[d].value(forKey: "k"), .int(9))
    }

    func testDangerousGlobalsBecomeInertPlaceholders() throws {
        var p = PickleOps()
        p.proto()
        p.emptyDict()
        p.mark()
        p.string("system")
        p.global("posix", "system"); p.string("touch /tmp/should-never-exist"); p.tuple1(); p.reduce()
        p.string("eval")
        p.global("__builtin__", "eval"); p.string("1+1"); p.tuple1(); p.reduce()
        p.string("ns")
        p.global("argparse", "Namespace"); p.emptyTuple(); p.newObj()
        p.emptyDict(); p.string("lr"); p.float(0.1); p.setItem(); p.build()
        p.string("called")  // calling the result of a placeholder stays inert too
        p.get(0); p.emptyTuple(); p.reduce()
        p.setItems()
        p.stop()
        // BINGET 0 was never stored: put the dict in memo first.
        var q = PickleOps()
        q.bytes = [p.bytes[0], p.bytes[1], p.bytes[2], 0x71, 0] + p.bytes[3...]
        let result = try read(q)
        XCTAssertEqual(result.placeholders, ["<call of a non-global>", "__builtin__.eval", "argparse.Namespace", "posix.system"])
        guard case .dict(let d) = result.root else { return XCTFail() }
        guard case .object(let o)? = result.heap.dicts[d].value(forKey: "system") else { return XCTFail() }
        let object = result.heap.objects[o]
        XCTAssertEqual(object.callee, PickleGlobal(module: "posix", name: "system"))
        XCTAssertEqual(object.arguments, [.string("touch /tmp/should-never-exist")])
        guard case .object(let n)? = result.heap.dicts[d].value(forKey: "ns") else { return XCTFail() }
        guard case .dict(let state)? = result.heap.objects[n].state else { return XCTFail() }
        XCTAssertEqual(result.heap.dicts[state].value(forKey: "lr"), .float(0.1))
    }

    func testCodecsEncodeAndBuiltins() throws {
        var p = PickleOps()
        p.proto()
        p.mark()
        p.global("_codecs", "encode"); p.string("\u{00}\u{FF}a"); p.string("latin1"); p.tuple2(); p.reduce()
        p.global("__builtin__", "set"); p.mark(); p.int(1); p.int(2); p.op(0x6C); p.tuple1(); p.reduce()
        p.global("torch", "Size"); p.mark(); p.int(3); p.int(4); p.tuple(); p.tuple1(); p.reduce()
        p.tuple()
        p.stop()
        let result = try read(p)
        guard case .tuple(let t) = result.root else { return XCTFail() }
        let items = result.heap.tuples[t]
        XCTAssertEqual(items[0], .bytes([0, 255, 97]))
        guard case .set(let s) = items[1], case .tuple(let size) = items[2] else { return XCTFail("\(items)") }
        XCTAssertEqual(result.heap.sets[s], [.int(1), .int(2)])
        XCTAssertEqual(result.heap.tuples[size], [.int(3), .int(4)])
    }

    func testTensorRebuild() throws {
        var p = PickleOps()
        p.proto()
        p.tensor("HalfStorage", key: "7", count: 12, offset: 2, shape: [2, 5], stride: [5, 1])
        p.stop()
        let result = try read(p)
        guard case .tensor(let t) = result.root else { return XCTFail("\(result.root)") }
        let tensor = result.heap.tensors[t]
        XCTAssertEqual(tensor.shape, [2, 5])
        XCTAssertEqual(tensor.stride, [5, 1])
        XCTAssertEqual(tensor.storageOffset, 2)
        XCTAssertEqual(result.heap.storages[tensor.storage], PickleStorage(typeName: "HalfStorage", key: "7", location: "cpu", elementCount: 12))
    }

    func testTensorViewOutsideItsStorageFails() {
        var p = PickleOps()
        p.proto()
        p.tensor("FloatStorage", key: "0", count: 10, offset: 1, shape: [2, 5], stride: [5, 1])
        p.stop()
        assertFails(p, "reaches element 10")

        var q = PickleOps()
        q.proto()
        q.tensor("FloatStorage", key: "0", count: 10, offset: 0, shape: [3], stride: [Int(Int32.max)])
        q.stop()
        assertFails(q, "reaches element")

        var r = PickleOps()
        r.proto()
        r.tensor("FloatStorage", key: "0", count: 10, offset: 0, shape: [2, 5], stride: [5])
        r.stop()
        assertFails(r, "dimensions")

        var s = PickleOps()
        s.proto()
        s.tensor("FloatStorage", key: "0", count: 10, offset: 0, shape: [-2], stride: [1])
        s.stop()
        assertFails(s, "negative")
    }

    func testStructuralErrors() {
        var p = PickleOps()
        p.proto(); p.op(0x30); p.stop()
        assertFails(p, "stack underflow")

        p = PickleOps()
        p.proto(); p.none(); p.op(0xFF)
        assertFails(p, "unknown opcode 0xff")

        p = PickleOps()
        p.proto(); p.none()
        assertFails(p, "data ends inside an opcode")

        p = PickleOps()
        p.proto(); p.get(3); p.stop()
        assertFails(p, "memo key 3 was never stored")

        p = PickleOps()
        p.proto(); p.op(0x58, p.le(0xFFFF_FFFF, 4))
        assertFails(p, "exceeds the limit")

        p = PickleOps()
        p.proto(); p.none(); p.none(); p.stop()
        assertFails(p, "2 values on the stack")

        p = PickleOps()
        p.proto(); p.none(); p.mark(); p.emptyTuple(); p.reduce(); p.stop()
        assertFails(p, "below the current MARK")

        p = PickleOps()
        p.proto(); p.none(); p.none(); p.append(); p.stop()
        assertFails(p, "APPEND to a value that is not a list")

        p = PickleOps()
        p.proto(); p.op(0x53, Array("'x'\n".utf8)); p.stop()
        assertFails(p, "not supported")

        p = PickleOps()
        p.proto(); p.string("x"); p.persid(); p.stop()
        assertFails(p, "unsupported persistent id")

        p = PickleOps()
        p.proto(); p.op(0x58, p.le(2, 4) + [0xC3, 0x28]); p.stop()
        assertFails(p, "not valid UTF-8")
    }

    func testCallingAnIntIsInert() throws {
        var p = PickleOps()
        p.proto(); p.int(1); p.emptyTuple(); p.reduce(); p.stop()
        let result = try read(p)
        guard case .object = result.root else { return XCTFail("\(result.root)") }
    }

    func testLimits() {
        var limits = PickleLimits()
        limits.maxStackDepth = 100
        var p = PickleOps()
        p.proto()
        for _ in 0..<101 { p.none() }
        assertFails(p, "stack deeper", limits: limits)

        limits = PickleLimits()
        limits.maxMemoEntries = 10
        p = PickleOps()
        p.proto(); p.none()
        for i in 0..<11 { p.put(UInt8(i)) }
        p.stop()
        assertFails(p, "memo larger", limits: limits)

        limits = PickleLimits()
        limits.maxMarkDepth = 5
        p = PickleOps()
        p.proto()
        for _ in 0..<6 { p.mark() }
        assertFails(p, "nested MARKs", limits: limits)

        limits = PickleLimits()
        limits.maxStringBytes = 3
        p = PickleOps()
        p.proto(); p.string("four"); p.stop()
        assertFails(p, "exceeds the limit of 3", limits: limits)

        // Copying one big string many times runs into the allocation budget.
        limits = PickleLimits()
        limits.maxAllocation = 100_000
        p = PickleOps()
        p.proto(); p.emptyList(); p.string(String(repeating: "x", count: 1000)); p.put(0); p.op(0x30)
        for _ in 0..<200 { p.global("_codecs", "encode"); p.get(0); p.tuple1(); p.reduce(); p.append() }
        p.stop()
        assertFails(p, "allocation limit", limits: limits)
    }

    func testDeepNestingAndCyclesDoNotOverflowTheStack() throws {
        var p = PickleOps()
        p.proto()
        p.emptyTuple()
        for _ in 0..<200_000 { p.tuple1() }
        p.stop()
        XCTAssertNoThrow(try read(p))

        // A list that contains itself.
        var q = PickleOps()
        q.proto(); q.emptyList(); q.put(0); q.get(0); q.append(); q.stop()
        let result = try read(q)
        guard case .list(let l) = result.root else { return XCTFail() }
        XCTAssertEqual(result.heap.lists[l], [.list(l)])
    }

    /// The data.pkl of a real torch.save file, truncated at every length and corrupted at random.
    func testFuzzedTorchPickleNeverCrashes() throws {
        let bytes = try Array(Data(contentsOf: TorchCheckpointFixtures.url("torch_lightning.ckpt")))
        let zip = try ZipArchive(bytes: ZipFileBytes(copying: bytes), source: "fixture")
        let entry = try XCTUnwrap(zip.entries.first { $0.name.hasSuffix("/data.pkl") })
        let pickle = Array(try zip.storedBytes(of: entry))
        XCTAssertNoThrow(try PickleReader(source: "p").read(pickle))
        for length in 0..<pickle.count {
            XCTAssertThrowsError(try PickleReader(source: "p").read(Array(pickle[..<length])), "length \(length)")
        }
        var rng = SplitMix64(seed: 42)
        var failures = 0
        for _ in 0..<3000 {
            var mutated = pickle
            for _ in 0..<Int.random(in: 1...4, using: &rng) {
                mutated[Int.random(in: 0..<mutated.count, using: &rng)] = UInt8.random(in: 0...255, using: &rng)
            }
            do { _ = try PickleReader(source: "p").read(mutated) } catch { failures += 1 }
        }
        XCTAssertGreaterThan(failures, 0)
    }
}
