import Foundation

/// Why a run refused to start or stopped; every case says what to do about it.
public enum TrainingError: Error, CustomStringConvertible, Equatable {
    /// A config field has a value that cannot work.
    case badConfig(field: String, String)
    /// The run folder exists and this is not a resume.
    case runExists(path: String)
    /// Resume found no run or no checkpoint.
    case noCheckpoint(path: String)
    /// The model has no trainable parameter.
    case nothingTrainable(total: Int)
    /// A micro-batch in which every label is masked.
    case allLabelsMasked(step: Int, batch: String)
    /// The loss or gradient norm is NaN or infinite.
    case nonFinite(step: Int, what: String, value: Double, lastCheckpoint: String?)
    /// The first optimizer step had a zero gradient norm.
    case zeroGradient(step: Int)
    /// The first optimizer step with a positive learning rate changed no trainable weight.
    case weightsUnchanged(step: Int)
    /// A resume was given different training data.
    case dataChanged(checkpoint: String, expectedRows: Int, rows: Int)
    /// There is no training data.
    case noData(String)

    /// What went wrong and what to do.
    public var description: String {
        switch self {
        case .badConfig(let field, let why): return "config field \"\(field)\": \(why)"
        case .runExists(let path):
            return "the run folder \(path) already exists; choose another run name, or resume it"
        case .noCheckpoint(let path): return "no checkpoint-STEP folder with trainer_state.json in \(path) to resume from"
        case .nothingTrainable(let total):
            return "no trainable parameters (0 of \(total)): every weight is frozen, so training would change nothing"
        case .allLabelsMasked(let step, let batch):
            return "step \(step): every label of a micro-batch is masked, so it trains nothing (\(batch)); check the loss masks "
                + "(completion-only / assistant-only) and truncation"
        case .nonFinite(let step, let what, let value, let last):
            return "step \(step): \(what) is \(value); stopped. " + (last.map { "The last good checkpoint is \($0)." } ?? "No checkpoint was saved yet.")
                + " Try a lower learning rate or gradient clipping."
        case .zeroGradient(let step):
            return "step \(step): the gradient norm is exactly zero, so nothing will learn; is the loss connected to the trainable weights?"
        case .weightsUnchanged(let step):
            return "step \(step): the optimizer step changed no trainable weight; check the learning rate and which parameters are trainable"
        case .dataChanged(let checkpoint, let expected, let rows):
            return "\(checkpoint) was trained on \(expected) rows, but the resume was given \(rows); pass the same data "
                + "and settings (max_length, packing) to continue exactly"
        case .noData(let why): return "no training data: \(why)"
        }
    }
}
