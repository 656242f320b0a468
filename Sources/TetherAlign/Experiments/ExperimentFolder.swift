import Foundation

/// What every end-to-end experiment does with its folder: start it new, and put each training stage's run in it.
enum ExperimentFolder {
    /// Creates `folder`, throwing (and writing nothing) if it exists; writes `config` there as `config.json` if given.
    static func create<C: Encodable>(_ folder: URL, config: C?) throws {
        guard !FileManager.default.fileExists(atPath: folder.path) else { throw TrainingError.runExists(path: folder.path) }
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        guard let config else { return }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try encoder.encode(config).write(to: folder.appendingPathComponent("config.json"))
    }

    /// `c` writing its run folder as `folder/name`, with initialisation and data order both seeded by `seed`.
    static func stage(_ c: TrainingConfig, in folder: URL, name: String, seed: UInt64) -> TrainingConfig {
        var c = c
        c.outputDir = folder.path
        c.runName = name
        c.seed = seed
        c.dataSeed = seed
        return c
    }
}
