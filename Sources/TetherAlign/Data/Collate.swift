import Foundation
import Tether

/// A padded batch of rows, ready for a causal LM: (B, S) ids, next-token labels, positions, segments and mask.
public struct Batch: Sendable {
    /// (B, S) token ids; pads hold the pad id.
    public var ids: IndexTensor
    /// (B, S) next-token targets, -100 where nothing is trained (pads included).
    public var labels: IndexTensor
    /// (B, S) positions within each sequence (pads: 0).
    public var positions: IndexTensor
    /// (B, S) segment ids for block-diagonal attention (pads: -1, so they see only pads).
    public var segments: IndexTensor
    /// (B, S) 1 for real tokens, 0 for pads (by position, never by id, so a pad equal to EOS hides nothing).
    public var attentionMask: Tensor
    /// Number of trained targets (labels that are not -100).
    public var trainedTokens: Int
    /// Per row, the indices of the examples it holds.
    public var members: [[Int]]
}

/// Right-pads rows into a `Batch`.
public struct Collator: Sendable {
    /// Id written at pad positions (may equal EOS: the mask is by position).
    public var padId: Int32
    /// Pad every batch to this width (nil: to the longest row).
    public var padTo: Int?

    /// A collator.
    public init(padId: Int32, padTo: Int? = nil) {
        self.padId = padId
        self.padTo = padTo
    }

    /// Pads `rows` on the right to a common width.
    public func callAsFunction(_ rows: [SequenceRow]) -> Batch {
        precondition(!rows.isEmpty, "Collator: no rows")
        let longest = rows.map(\.count).max()!
        let width = padTo ?? longest
        precondition(longest <= width, "Collator: a row has \(longest) tokens, over padTo \(width)")
        var ids = [Int32](), labels = [Int32](), positions = [Int32](), segments = [Int32](), mask = [Float]()
        let total = rows.count * width
        ids.reserveCapacity(total); labels.reserveCapacity(total); positions.reserveCapacity(total)
        segments.reserveCapacity(total); mask.reserveCapacity(total)
        var trained = 0
        for r in rows {
            let pad = width - r.count
            ids += r.ids + [Int32](repeating: padId, count: pad)
            labels += r.labels + [Int32](repeating: -100, count: pad)
            positions += r.positions + [Int32](repeating: 0, count: pad)
            segments += r.segments + [Int32](repeating: -1, count: pad)
            mask += [Float](repeating: 1, count: r.count) + [Float](repeating: 0, count: pad)
            trained += r.labels.filter { $0 != -100 }.count
        }
        let shape = [rows.count, width]
        return Batch(ids: IndexTensor(ids, shape: shape), labels: IndexTensor(labels, shape: shape),
                     positions: IndexTensor(positions, shape: shape), segments: IndexTensor(segments, shape: shape),
                     attentionMask: Tensor(mask, shape: shape), trainedTokens: trained, members: rows.map(\.members))
    }

    /// One unpacked row per example, padded.
    public func batch(_ examples: [TokenizedExample], indices: [Int]? = nil) -> Batch {
        let idx = indices ?? Array(examples.indices)
        return self(zip(examples, idx).map { SequenceRow($0, index: $1) })
    }
}
