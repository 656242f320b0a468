import Foundation
import Tether
import TetherNN

/// Where a run is: step, data position, counters, generator states and the metrics so far (`trainer_state.json`).
public struct TrainerState: Codable, Equatable {
    /// Optimizer steps taken.
    public var step = 0
    /// Epoch of the next row.
    public var epoch = 0
    /// Index, within the epoch's shuffled order, of the next row.
    public var index = 0
    /// Seed of the data order (the order of epoch e is a permutation drawn from `dataSeed` forked by e).
    public var dataSeed: UInt64 = 0
    /// Rows in the training data (a resume with other data could not continue exactly, so it is refused).
    public var trainRows = 0
    /// Input tokens seen so far (TRL's `num_tokens`).
    public var numTokens = 0
    /// Wall time of the run before this session, seconds.
    public var elapsedSeconds = 0.0
    /// Generator of every dropout module, by module path.
    public var dropoutGenerators: [String: RandomGenerator] = [:]
    /// The objective's own generators (``TrainingObjective/generators``).
    public var objectiveGenerators: [String: RandomGenerator] = [:]
    /// Sums since the last metrics line.
    var interval = IntervalSums()
    /// Every metrics line so far.
    public var logHistory: [MetricRecord] = []
}

/// Checkpoint folders: `runs/NAME/checkpoint-STEP/` with the model (HF layout), `optimizer.safetensors`,
/// `trainer_state.json` and `training_config.json`, written to a temporary folder and renamed.
public enum Checkpoints {
    /// File names inside a checkpoint.
    static let stateFile = "trainer_state.json", optimizerFile = "optimizer.safetensors", configFile = "training_config.json"

    /// The folder name for `step`.
    public static func name(step: Int) -> String { "checkpoint-\(step)" }

    /// Checkpoints in a run folder, by step, oldest first (temporary folders are ignored).
    public static func list(in run: URL) -> [(step: Int, url: URL)] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: run.path)) ?? []
        return names.compactMap { name -> (Int, URL)? in
            guard name.hasPrefix("checkpoint-"), let step = Int(name.dropFirst("checkpoint-".count)) else { return nil }
            let url = run.appendingPathComponent(name)
            guard FileManager.default.fileExists(atPath: url.appendingPathComponent(stateFile).path) else { return nil }
            return (step, url)
        }.sorted { $0.0 < $1.0 }.map { (step: $0.0, url: $0.1) }
    }

    /// The newest complete checkpoint of a run.
    public static func latest(in run: URL) throws(TrainingError) -> URL {
        guard let last = list(in: run).last else { throw .noCheckpoint(path: run.path) }
        return last.url
    }

    /// Writes a checkpoint atomically: everything goes to `.checkpoint-STEP.tmp`, which is then renamed.
    static func save(run: URL, step: Int, config: TrainingConfig, state: TrainerState, optimizer: any Optimizer,
                     saveModel: (URL) throws -> Void) throws -> URL {
        let fm = FileManager.default
        let tmp = run.appendingPathComponent(".\(name(step: step)).tmp")
        let final = run.appendingPathComponent(name(step: step))
        if fm.fileExists(atPath: tmp.path) { try fm.removeItem(at: tmp) }
        try fm.createDirectory(at: tmp, withIntermediateDirectories: true)
        try saveModel(tmp)
        try optimizer.save(to: tmp.appendingPathComponent(optimizerFile))
        try encoder().encode(state).write(to: tmp.appendingPathComponent(stateFile))
        try encoder().encode(config).write(to: tmp.appendingPathComponent(configFile))
        if fm.fileExists(atPath: final.path) { try fm.removeItem(at: final) }
        try fm.moveItem(at: tmp, to: final)
        return final
    }

    /// Reads the trainer state and config of a checkpoint.
    static func read(_ checkpoint: URL) throws -> (TrainerState, TrainingConfig) {
        let state = try JSONDecoder().decode(TrainerState.self, from: Data(contentsOf: checkpoint.appendingPathComponent(stateFile)))
        let config = try JSONDecoder().decode(TrainingConfig.self, from: Data(contentsOf: checkpoint.appendingPathComponent(configFile)))
        return (state, config)
    }

    /// Pretty, sorted JSON.
    static func encoder() -> JSONEncoder {
        let e = JSONEncoder()
        e.outputFormatting = [.prettyPrinted, .sortedKeys]
        return e
    }
}
