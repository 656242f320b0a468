import Foundation
import Tether
import TetherLM

/// The causal-LM loss of one batch with its statistics: sums over trained targets, so a caller can normalise
/// over any number of batches.
public struct TokenLossStats {
    /// Σ −log p(target) over trained positions: a scalar with autograd.
    public var sum: Tensor
    /// Trained positions (labels not -100).
    public var count: Int
    /// Trained positions where the greedy (argmax) token is the target.
    public var correct: Int
    /// Σ entropy (nats) of the predicted distribution over trained positions.
    public var entropySum: Double
}

/// SFT / pretraining loss from hidden states, with the LM head fused into the log-prob so the (B, T, V) logits
/// never exist with autograd: hidden (B, T, C), labels (B, T) already shifted (-100: not trained). Only the trained
/// rows go through the LM head (an SFT answer is a few tokens of each row). Accuracy and entropy come from their
/// logits, `chunkRows` at a time, without gradients.
public func sftLoss(model: CausalLM, hidden: Tensor, labels: IndexTensor, chunkRows: Int = 256) -> TokenLossStats {
    precondition(hidden.rank == 3 && Array(hidden.shape.prefix(2)) == labels.shape,
                 "sftLoss: hidden \(hidden.shape) and labels \(labels.shape) must be (B, T, C) and (B, T)")
    let rows = labels.values.indices.filter { labels.values[$0] != -100 }
    let flat = hidden.reshape([labels.count, hidden.shape[2]])                                    // (N, C)
    let trained = rows.count == labels.count ? flat
        : Tensor.embedding(flat, IndexTensor(rows.map(Int32.init), shape: [rows.count]))           // (n, C)
    let targets = rows.map { labels.values[$0] }
    let logp = model.tokenLogProbs(hidden: trained.reshape([1, rows.count, hidden.shape[2]]),
                                   tokens: IndexTensor(targets, shape: [1, rows.count]), chunkRows: chunkRows)  // (1, n)
    var correct = 0, entropy = 0.0
    noGrad {
        let detached = trained.detach()
        for start in stride(from: 0, to: rows.count, by: chunkRows) {
            let r = start..<min(start + chunkRows, rows.count)
            let stats = greedyAndEntropy(logits: model.logits(hidden: detached.slice(axis: 0, r)), targets: Array(targets[r]))
            correct += stats.correct
            entropy += stats.entropySum
        }
    }
    return TokenLossStats(sum: -logp.sum(), count: rows.count, correct: correct, entropySum: entropy)
}

/// The same loss from full logits (B, T, V) (reference and small models): cross-entropy summed over trained targets.
public func sftLoss(logits: Tensor, labels: IndexTensor) -> TokenLossStats {
    precondition(logits.rank == 3 && Array(logits.shape.prefix(2)) == labels.shape,
                 "sftLoss: logits \(logits.shape) and labels \(labels.shape) must be (B, T, V) and (B, T)")
    let sum = Tensor.crossEntropy(logits: logits, targets: labels, reduction: .sum)
    let rows = labels.values.indices.filter { labels.values[$0] != -100 }
    let vocab = logits.shape[2]
    let stats = noGrad { () -> (correct: Int, entropySum: Double) in
        let flat = logits.detach().reshape([labels.count, vocab])
        let picked = Tensor.embedding(flat, IndexTensor(rows.map(Int32.init), shape: [rows.count]))
        return greedyAndEntropy(logits: picked, targets: rows.map { labels.values[$0] })
    }
    return TokenLossStats(sum: sum, count: rows.count, correct: stats.correct, entropySum: stats.entropySum)
}

/// Per row of logits (n, V): whether greedy decoding picks the target (the first maximal logit, as `argmax`), and the
/// entropy −Σ p·log p; vectorised tensor ops, sums in Double.
func greedyAndEntropy(logits: Tensor, targets: [Int32]) -> (correct: Int, entropySum: Double) {
    let vocab = logits.shape[1]
    let logp = logits.logSoftmax(axis: -1)                                   // (n, V)
    let entropy = (logp.exp() * logp).sum(axis: 1).scalars()                 // (n), −H per row
    let best = logits.max(axis: 1).scalars()                                 // (n)
    let values = logits.contiguous()
    var correct = 0
    for (i, t) in targets.enumerated() where values.data[i * vocab + Int(t)] >= best[i] {
        let row = values.data + i * vocab
        if !(0..<Int(t)).contains(where: { row[$0] >= best[i] }) { correct += 1 }  // a tie goes to the lowest id
    }
    return (correct, -entropy.reduce(0.0) { $0 + Double($1) })
}
