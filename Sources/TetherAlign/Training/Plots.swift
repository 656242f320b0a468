import Foundation

/// Hand-written SVG line plots (no dependency).
public enum Plots {
    /// Line colours, one per series.
    static let colours = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728"]

    /// A line plot of one series (x, y) with axes, tick labels and a title; non-finite points are skipped.
    public static func lineSVG(title: String, xLabel: String = "step", points: [(Double, Double)],
                               width: Double = 640, height: Double = 360) -> String {
        lineSVG(title: title, xLabel: xLabel, series: [(title, points)], width: width, height: height)
    }

    /// A line plot of several named series on shared axes, with a legend when there is more than one.
    public static func lineSVG(title: String, xLabel: String = "step", series: [(name: String, points: [(Double, Double)])],
                               width: Double = 640, height: Double = 360) -> String {
        let clean = series.map { (name: $0.name, points: $0.points.filter { $0.0.isFinite && $0.1.isFinite }) }
        let pts = clean.flatMap(\.points)
        let (left, right, top, bottom) = (70.0, 20.0, 36.0, 46.0)
        let plotW = width - left - right, plotH = height - top - bottom
        var xs = (pts.map(\.0).min() ?? 0, pts.map(\.0).max() ?? 1)
        var ys = (pts.map(\.1).min() ?? 0, pts.map(\.1).max() ?? 1)
        if xs.1 <= xs.0 { xs = (xs.0 - 1, xs.0 + 1) }
        if ys.1 <= ys.0 { let pad = max(abs(ys.0) * 0.05, 1e-12); ys = (ys.0 - pad, ys.0 + pad) }
        func px(_ x: Double) -> Double { left + (x - xs.0) / (xs.1 - xs.0) * plotW }
        func py(_ y: Double) -> Double { top + (1 - (y - ys.0) / (ys.1 - ys.0)) * plotH }
        func f(_ v: Double) -> String { String(format: "%.1f", v) }
        func label(_ v: Double) -> String { String(format: abs(v) >= 1e4 || (abs(v) < 1e-2 && v != 0) ? "%.2e" : "%.3g", v) }
        var svg = """
        <svg xmlns="http://www.w3.org/2000/svg" width="\(Int(width))" height="\(Int(height))" font-family="sans-serif" font-size="12">
        <rect width="100%" height="100%" fill="white"/>
        <text x="\(f(width / 2))" y="22" text-anchor="middle" font-size="15">\(escape(title))</text>

        """
        for i in 0...4 {
            let fy = Double(i) / 4, y = ys.0 + fy * (ys.1 - ys.0), x = xs.0 + fy * (xs.1 - xs.0)
            svg += "<line x1=\"\(f(left))\" y1=\"\(f(py(y)))\" x2=\"\(f(left + plotW))\" y2=\"\(f(py(y)))\" stroke=\"#ddd\"/>\n"
            svg += "<text x=\"\(f(left - 6))\" y=\"\(f(py(y) + 4))\" text-anchor=\"end\">\(label(y))</text>\n"
            svg += "<text x=\"\(f(px(x)))\" y=\"\(f(top + plotH + 18))\" text-anchor=\"middle\">\(label(x))</text>\n"
        }
        svg += "<rect x=\"\(f(left))\" y=\"\(f(top))\" width=\"\(f(plotW))\" height=\"\(f(plotH))\" fill=\"none\" stroke=\"#333\"/>\n"
        svg += "<text x=\"\(f(left + plotW / 2))\" y=\"\(f(height - 8))\" text-anchor=\"middle\">\(escape(xLabel))</text>\n"
        for (i, s) in clean.enumerated() where !s.points.isEmpty {
            let colour = colours[i % colours.count]
            let path = s.points.map { "\(f(px($0.0))),\(f(py($0.1)))" }.joined(separator: " ")
            svg += "<polyline fill=\"none\" stroke=\"\(colour)\" stroke-width=\"2\" points=\"\(path)\"/>\n"
            for p in s.points where s.points.count <= 40 {  // markers while they stay readable
                svg += "<circle cx=\"\(f(px(p.0)))\" cy=\"\(f(py(p.1)))\" r=\"2.5\" fill=\"\(colour)\"/>\n"
            }
            if clean.count > 1 {
                let y = top + 14 + Double(i) * 16
                svg += "<line x1=\"\(f(left + plotW - 120))\" y1=\"\(f(y - 4))\" x2=\"\(f(left + plotW - 100))\" y2=\"\(f(y - 4))\" stroke=\"\(colour)\" stroke-width=\"2\"/>\n"
                svg += "<text x=\"\(f(left + plotW - 94))\" y=\"\(f(y))\">\(escape(s.name))</text>\n"
            }
        }
        return svg + "</svg>\n"
    }

    /// `metric` against `step` from metrics lines that have it.
    public static func series(_ history: [MetricRecord], _ metric: String) -> [(Double, Double)] {
        history.compactMap { r in r[metric].flatMap { v in r["step"].map { ($0, v) } } }
    }

    private static func escape(_ s: String) -> String {
        s.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;").replacingOccurrences(of: ">", with: "&gt;")
    }
}
