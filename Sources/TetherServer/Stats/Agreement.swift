/// Inter-annotator agreement on categorical labels: Cohen's kappa (two raters) and Krippendorff's alpha (any number).
public enum Agreement {
    /// Cohen's kappa of two raters' labels on the same units, `(p_o - p_e) / (1 - p_e)`; nil with no units or when chance agreement is 1.
    ///
    /// `pairs` holds one (rater 1's label, rater 2's label) per unit both labelled.
    public static func cohenKappa<L: Hashable>(_ pairs: [(L, L)]) -> Double? {
        guard !pairs.isEmpty else { return nil }
        let n = Double(pairs.count)
        var agree = 0.0
        var first: [L: Double] = [:], second: [L: Double] = [:]
        for (a, b) in pairs {
            if a == b { agree += 1 }
            first[a, default: 0] += 1
            second[b, default: 0] += 1
        }
        let po = agree / n
        var pe = 0.0
        for (label, c) in first { pe += (c / n) * ((second[label] ?? 0) / n) }
        guard pe < 1 else { return nil }
        return (po - pe) / (1 - pe)
    }

    /// Krippendorff's alpha for nominal data, `1 - D_o / D_e`, from each unit's labels (any raters, missing allowed).
    ///
    /// Units with fewer than two labels are not pairable and are ignored. Nil when fewer than two pairable
    /// values exist or when every value is the same category (no expected disagreement).
    public static func krippendorffAlpha<L: Hashable>(units: [[L]]) -> Double? {
        // Coincidence matrix: each ordered pair of values within a unit of m values weighs 1 / (m - 1).
        var coincidences: [L: [L: Double]] = [:]
        for values in units where values.count >= 2 {
            let w = 1.0 / Double(values.count - 1)
            for i in values.indices {
                for j in values.indices where j != i {
                    coincidences[values[i], default: [:]][values[j], default: 0] += w
                }
            }
        }
        var marginals: [L: Double] = [:]
        var observed = 0.0
        for (c, row) in coincidences {
            for (k, o) in row {
                marginals[c, default: 0] += o
                if c != k { observed += o }
            }
        }
        let n = marginals.values.reduce(0, +)
        guard n > 1 else { return nil }
        var expected = 0.0
        let cats = Array(marginals.keys)
        for c in cats { for k in cats where k != c { expected += marginals[c]! * marginals[k]! } }
        expected /= (n - 1)
        guard expected > 0 else { return nil }
        return 1 - observed / expected
    }
}
