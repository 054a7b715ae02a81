import CFuzzerDriver
import Foundation

// `EnatFuzz TARGET [libFuzzer options and corpus folders]`: runs one target under libFuzzer.
// libFuzzer's own main is not linked in; this one picks the target, then hands over.

nonisolated(unsafe) var selected: FuzzTarget?

var arguments = CommandLine.arguments
guard arguments.count >= 2, let target = FuzzTarget.named(arguments[1]) else {
    let list = FuzzTarget.all.map { "  \($0.name): \($0.summary)" }.joined(separator: "\n")
    FileHandle.standardError.write(Data("usage: EnatFuzz TARGET [libFuzzer options] [corpus...]\ntargets:\n\(list)\n".utf8))
    exit(2)
}
selected = target
arguments.remove(at: 1)

// libFuzzer keeps pointers into argv for the whole run: the strings are never freed.
var argc = Int32(arguments.count)
var argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = UnsafeMutablePointer.allocate(capacity: arguments.count + 1)
for (index, argument) in arguments.enumerated() { argv![index] = strdup(argument) }
argv![arguments.count] = nil

/// The callback libFuzzer calls; its runtime also references it by this name.
@_cdecl("LLVMFuzzerTestOneInput")
func fuzzOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    let bytes = size == 0 || data == nil ? [] : Array(UnsafeBufferPointer(start: data, count: size))
    selected!.run(bytes)
    return 0
}

exit(LLVMFuzzerRunDriver(&argc, &argv, fuzzOneInput))
