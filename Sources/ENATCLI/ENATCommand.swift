import ArgumentParser

@main
struct ENATCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "enat",
        abstract: "ENAT image generation on CPUs: serve, generate, check and benchmark.",
        subcommands: [GoldenCommand.self, BenchCommand.self, ServeCommand.self, ConvertCommand.self, GenerateCommand.self])
}
