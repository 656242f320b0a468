import Foundation

/// One row of a batch before padding: one sequence, or several packed end to end.
///
/// `labels[t]` is the token the model should predict at position `t` (already shifted: the next token
/// where it is trained, -100 elsewhere), so a sequence's last position never predicts the next sequence's first token.
public struct SequenceRow: Sendable, Equatable {
    /// Token ids.
    public var ids: [Int32]
    /// Next-token targets, -100 where nothing is trained.
    public var labels: [Int32]
    /// Position of each token within its own sequence (restarts at 0 for each packed sequence).
    public var positions: [Int32]
    /// Which packed sequence each token belongs to (0, 1, ...); attention stays within a segment.
    public var segments: [Int32]
    /// Indices (in the packed input) of the examples in this row, in row order.
    public var members: [Int]

    /// An empty row.
    public init() {
        ids = []; labels = []; positions = []; segments = []; members = []
    }

    /// A row holding one example.
    public init(_ example: TokenizedExample, index: Int = 0) {
        self.init()
        append(example, index: index)
    }

    /// Tokens in the row.
    public var count: Int { ids.count }

    /// Appends `example` as a new segment.
    public mutating func append(_ example: TokenizedExample, index: Int) {
        let n = example.ids.count, segment = Int32(members.count)
        ids += example.ids
        for t in 0..<n {
            labels.append(t + 1 < n && example.lossMask[t + 1] ? example.ids[t + 1] : -100)
            positions.append(Int32(t))
            segments.append(segment)
        }
        members.append(index)
    }
}

/// Best-fit-decreasing packing of sequences into rows of at most `capacity` tokens.
public enum Packing {
    /// Rows of example indices: longest first (ties: lower index first), each into the row with the least room
    /// that still fits it (ties: the lowest row), else a new row. Deterministic.
    public static func bestFitDecreasing(lengths: [Int], capacity: Int) -> [[Int]] {
        precondition(capacity > 0, "bestFitDecreasing: capacity \(capacity) must be positive")
        for (i, l) in lengths.enumerated() {
            precondition(l >= 0 && l <= capacity, "bestFitDecreasing: sequence \(i) has \(l) tokens, over the capacity \(capacity)")
        }
        let order = lengths.indices.sorted { lengths[$0] != lengths[$1] ? lengths[$0] > lengths[$1] : $0 < $1 }
        var rows: [[Int]] = []
        var room = RoomIndex(capacity: capacity)
        for i in order {
            if let r = room.takeBestFit(lengths[i]) {
                rows[r.row].append(i)
                room.insert(row: r.row, room: r.room - lengths[i])
            } else {
                rows.append([i])
                room.insert(row: rows.count - 1, room: capacity - lengths[i])
            }
        }
        return rows
    }

    /// Packs examples into rows of at most `maxLength` tokens (longer examples are truncated, keeping the start).
    public static func pack(_ examples: [TokenizedExample], maxLength: Int) -> [SequenceRow] {
        let fitted = examples.map { $0.truncated(to: maxLength) }
        return bestFitDecreasing(lengths: fitted.map(\.ids.count), capacity: maxLength).map { members in
            var row = SequenceRow()
            for i in members { row.append(fitted[i], index: i) }
            return row
        }
    }
}

/// Rows bucketed by remaining room, with a segment tree over room sizes to find the smallest room >= n in O(log capacity).
private struct RoomIndex {
    private var size = 1
    private var counts: [Int]
    private var buckets: [[Int]]

    init(capacity: Int) {
        while size < capacity + 1 { size *= 2 }
        counts = [Int](repeating: 0, count: 2 * size)
        buckets = [[Int]](repeating: [], count: capacity + 1)
    }

    mutating func insert(row: Int, room: Int) {
        guard room > 0 else { return }  // a full row takes nothing more
        // Kept in descending row order, so removeLast takes the lowest row.
        let at = buckets[room].firstIndex { $0 < row } ?? buckets[room].count
        buckets[room].insert(row, at: at)
        bump(room, 1)
    }

    /// Removes and returns a row whose room is the smallest that is >= `need`.
    mutating func takeBestFit(_ need: Int) -> (row: Int, room: Int)? {
        guard let room = firstNonEmpty(atLeast: max(need, 1)) else { return nil }
        let row = buckets[room].removeLast()
        bump(room, -1)
        return (row, room)
    }

    private mutating func bump(_ leaf: Int, _ d: Int) {
        var i = leaf + size
        while i >= 1 { counts[i] += d; i /= 2 }
    }

    private func firstNonEmpty(atLeast lo: Int) -> Int? {
        guard lo < size else { return nil }
        return search(node: 1, nodeLo: 0, nodeHi: size, lo: lo)
    }

    private func search(node: Int, nodeLo: Int, nodeHi: Int, lo: Int) -> Int? {
        if nodeHi <= lo || counts[node] == 0 { return nil }
        if nodeHi - nodeLo == 1 { return nodeLo }
        let mid = (nodeLo + nodeHi) / 2
        return search(node: 2 * node, nodeLo: nodeLo, nodeHi: mid, lo: lo)
            ?? search(node: 2 * node + 1, nodeLo: mid, nodeHi: nodeHi, lo: lo)
    }
}
