import Foundation

/// One comparison between two players (candidates, or candidate sources): `winner` beat `loser`, or they tied.
public struct Comparison: Sendable, Equatable {
    /// Index of the player that won (either player for a tie).
    public var winner: Int
    /// Index of the player that lost (the other player for a tie).
    public var loser: Int
    /// Whether it was a tie (counted as half a win each).
    public var tie: Bool
    /// How many times this outcome was seen.
    public var weight: Double

    /// A comparison; ties count half a win for each side.
    public init(winner: Int, loser: Int, tie: Bool = false, weight: Double = 1) {
        self.winner = winner
        self.loser = loser
        self.tie = tie
        self.weight = weight
    }
}

/// Bradley–Terry strengths: P(i beats j) = σ(θ_i − θ_j), fitted by maximum likelihood, with Wald confidence intervals.
public struct BradleyTerry: Sendable, Equatable {
    /// Log-strengths θ, centred to sum to zero.
    public var scores: [Double]
    /// Standard errors of θ (from the inverse Fisher information, under the sum-to-zero constraint).
    public var standardErrors: [Double]
    /// Comparisons each player took part in (ties included).
    public var games: [Double]
    /// Whether Newton's method converged (false when some player won or lost every game and `ridge` is 0).
    public var converged: Bool

    /// The 95% interval of player `i`'s θ.
    public func interval(_ i: Int, z: Double = 1.959964) -> (low: Double, high: Double) {
        (scores[i] - z * standardErrors[i], scores[i] + z * standardErrors[i])
    }

    /// θ on the arena's Elo-like scale: 1000 + 400 · θ / ln 10.
    public static func elo(_ theta: Double) -> Double { 1000 + 400 * theta / log(10) }

    /// Fits `players` strengths to `comparisons` by Newton's method on the log-likelihood minus `ridge`/2 · Σθ².
    ///
    /// A small `ridge` keeps scores finite when a player won (or lost) every game. Players with no games get θ = 0
    /// and an infinite standard error.
    public static func fit(players: Int, comparisons: [Comparison], ridge: Double = 0,
                           maxIterations: Int = 100, tolerance: Double = 1e-10) -> BradleyTerry {
        precondition(players >= 0 && ridge >= 0, "BradleyTerry.fit: players \(players), ridge \(ridge)")
        // Aggregate into wins[i][j] (i beat j, ties half) and games per pair.
        var wins = [[Double]](repeating: [Double](repeating: 0, count: players), count: players)
        for c in comparisons {
            precondition(c.winner != c.loser && c.winner < players && c.loser < players && c.winner >= 0 && c.loser >= 0,
                         "BradleyTerry.fit: comparison \(c) with \(players) players")
            if c.tie {
                wins[c.winner][c.loser] += c.weight / 2
                wins[c.loser][c.winner] += c.weight / 2
            } else {
                wins[c.winner][c.loser] += c.weight
            }
        }
        var games = [Double](repeating: 0, count: players)
        for i in 0..<players { for j in 0..<players where j != i { games[i] += wins[i][j] + wins[j][i] } }
        let active = (0..<players).filter { games[$0] > 0 }
        var theta = [Double](repeating: 0, count: players)
        guard active.count >= 2 else {
            return BradleyTerry(scores: theta, standardErrors: theta.indices.map { _ in .infinity },
                                games: games, converged: true)
        }
        let m = active.count
        func logLikelihood(_ t: [Double]) -> Double {
            var ll = 0.0
            for a in 0..<m { for b in 0..<m where b != a {
                let w = wins[active[a]][active[b]]
                if w > 0 { ll -= w * log1p(exp(-(t[a] - t[b]))) }
            } }
            return ll - ridge / 2 * t.reduce(0) { $0 + $1 * $1 }
        }
        // Newton on the active players' θ (index a into `active`).
        var t = [Double](repeating: 0, count: m)
        var converged = false
        var hessian = [[Double]]()
        for _ in 0..<maxIterations {
            var grad = [Double](repeating: 0, count: m)
            hessian = [[Double]](repeating: [Double](repeating: 0, count: m), count: m)
            for a in 0..<m { for b in (a + 1)..<m {
                let n = wins[active[a]][active[b]] + wins[active[b]][active[a]]
                guard n > 0 else { continue }
                let p = 1 / (1 + exp(-(t[a] - t[b])))
                let g = wins[active[a]][active[b]] - n * p
                grad[a] += g; grad[b] -= g
                let h = n * p * (1 - p)
                hessian[a][a] += h; hessian[b][b] += h
                hessian[a][b] -= h; hessian[b][a] -= h
            } }
            for a in 0..<m { grad[a] -= ridge * t[a] }
            // Step = (H + λI + J/m)⁻¹ g: the J/m term fixes the free shift of θ (H's null direction).
            var system = hessian
            for a in 0..<m { for b in 0..<m { system[a][b] += (a == b ? ridge : 0) + 1 / Double(m) } }
            guard let step = solve(system, grad) else { break }
            var scale = 1.0
            let before = logLikelihood(t)
            var next = t
            repeat {
                next = zip(t, step).map { $0 + scale * $1 }
                scale /= 2
            } while logLikelihood(next) < before - 1e-12 && scale > 1e-6
            let change = zip(next, t).map { abs($0 - $1) }.max() ?? 0
            t = next
            let mean = t.reduce(0, +) / Double(m)
            t = t.map { $0 - mean }
            if change < tolerance { converged = true; break }
        }
        // Covariance = P (H + λI + J/m)⁻¹ P with P = I − J/m, the inverse Fisher information on sum-zero θ.
        var info = hessian
        for a in 0..<m { for b in 0..<m { info[a][b] += (a == b ? ridge : 0) + 1 / Double(m) } }
        var se = [Double](repeating: .infinity, count: players)
        if let inv = inverse(info) {
            for a in 0..<m {
                // (P C P)_aa = C_aa − 2 mean_b C_ab + mean_bc C_bc
                let rowMean = inv[a].reduce(0, +) / Double(m)
                let allMean = inv.reduce(0) { $0 + $1.reduce(0, +) } / Double(m * m)
                se[active[a]] = sqrt(max(0, inv[a][a] - 2 * rowMean + allMean))
            }
        }
        for a in 0..<m { theta[active[a]] = t[a] }
        return BradleyTerry(scores: theta, standardErrors: se, games: games, converged: converged)
    }

    /// Solves A x = b by Gaussian elimination with partial pivoting; nil when A is singular.
    static func solve(_ a: [[Double]], _ b: [Double]) -> [Double]? {
        let n = b.count
        var m = a, x = b
        for col in 0..<n {
            guard let pivot = (col..<n).max(by: { abs(m[$0][col]) < abs(m[$1][col]) }), abs(m[pivot][col]) > 1e-300 else { return nil }
            m.swapAt(col, pivot); x.swapAt(col, pivot)
            for r in (col + 1)..<n where m[r][col] != 0 {
                let f = m[r][col] / m[col][col]
                for c in col..<n { m[r][c] -= f * m[col][c] }
                x[r] -= f * x[col]
            }
        }
        for r in stride(from: n - 1, through: 0, by: -1) {
            var s = x[r]
            for c in (r + 1)..<n { s -= m[r][c] * x[c] }
            x[r] = s / m[r][r]
        }
        return x
    }

    /// The inverse of a small square matrix; nil when singular.
    static func inverse(_ a: [[Double]]) -> [[Double]]? {
        let n = a.count
        var columns: [[Double]] = []
        for j in 0..<n {
            var e = [Double](repeating: 0, count: n)
            e[j] = 1
            guard let col = solve(a, e) else { return nil }
            columns.append(col)
        }
        return (0..<n).map { i in (0..<n).map { j in columns[j][i] } }
    }
}
