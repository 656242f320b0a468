import Foundation
import Tether

/// How much of a dataset goes to evaluation.
public enum SplitSize: Sendable, Equatable, Codable {
    /// A fraction of the records, in (0, 1), rounded up (as `datasets.train_test_split` does).
    case fraction(Double)
    /// An exact number of records.
    case count(Int)
}

/// Seeded, deterministic ordering and splitting of a dataset (Philox, so the same seed gives the same order everywhere).
public enum DataOrder {
    /// `items` in a random order fixed by `seed`.
    public static func shuffled<T>(_ items: [T], seed: UInt64) -> [T] {
        var rng = RandomGenerator(seed: seed)
        var out = items
        rng.shuffle(&out)
        return out
    }

    /// Splits `items` into train and eval sets; with `shuffle`, the eval set is a seeded random sample and both
    /// sets are in shuffled order, else eval is the tail. Throws if either set would be empty.
    public static func trainEvalSplit<T>(_ items: [T], eval size: SplitSize, seed: UInt64,
                                         shuffle: Bool = true) throws(DatasetError) -> (train: [T], eval: [T]) {
        let n = items.count
        let k: Int
        switch size {
        case .fraction(let f):
            guard f > 0 && f < 1 else { throw DatasetError(field: "eval_size", "expected a fraction between 0 and 1, got \(f)") }
            k = Int((Double(n) * f).rounded(.up))
        case .count(let c): k = c
        }
        guard k >= 1 && k < n else {
            throw DatasetError(field: "eval_size", "an eval set of \(k) of \(n) records leaves an empty train or eval set")
        }
        guard shuffle else { return (Array(items[..<(n - k)]), Array(items[(n - k)...])) }
        var rng = RandomGenerator(seed: seed)
        let order = rng.permutation(n)
        return (order[k...].map { items[$0] }, order[..<k].map { items[$0] })
    }
}
