import ArgumentParser
import Foundation
import GoldenCheck
import ModelFiles
import Tensors

struct GoldenCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "golden",
        abstract: "Reproduce golden files of the official implementation and report the error of every expected tensor.",
        discussion: """
            Recognises ENAT forward and trajectory files, VQGAN decoder and encoder files, CLIP text files and
            caption ENAT files by their tensors. Exits non-zero when any expectation is over its tolerance.
            """)

    @Argument(help: "Golden safetensors files.")
    var files: [String]

    @Option(help: "Read the model parameters from this checkpoint (safetensors or PyTorch) instead of the file's own weights.*.")
    var weights: String?

    @Option(help: "fp32 (the parity check) or bf16 (tolerance: 2% of each expected tensor's range).")
    var precision: String = "fp32"

    @Option(
        help:
            "CLIP's BPE vocabulary (bpe_simple_vocab_16e6.txt.gz) for files with captions; default: clip_bpe_simple_vocab_16e6.txt.gz beside each file."
    )
    var vocabulary: String?

    func run() throws {
        let precision = try resolvePrecision(self.precision)
        var failed = false
        for path in files {
            do {
                let archive = try weights.map { try openArchive(path: $0) }
                let report = try GoldenCheck.run(path: path, weights: archive, vocabulary: vocabulary, precision: precision)
                print(report.text, terminator: "")
                failed = failed || !report.passed
            } catch {
                print("\(path): error: \(error)")
                failed = true
            }
        }
        if failed { throw ExitCode.failure }
    }
}

/// A weight file by its content: a PyTorch zip checkpoint starts with a zip record ("PK"),
/// anything else is read as safetensors.
func openArchive(path: String) throws -> any TensorArchive {
    let file = try MappedFile(path: path)
    if file.bytes.count >= 2, file.bytes[0] == 0x50, file.bytes[1] == 0x4B { return try TorchCheckpoint(path: path) }
    return try SafeTensorsFile(file: file)
}
