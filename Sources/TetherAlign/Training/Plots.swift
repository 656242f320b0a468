import Foundation

/// Hand-written SVG line plots (no dependency).
public enum Plots {
    /// A line plot of `points` (x, y) with axes, tick labels and a title; non-finite points are skipped.
    public static func lineSVG(title: String, xLabel: String = "step", points: [(Double, Double)],
                               width: Double = 640, height: Double = 360) -> String {
        let pts = points.filter { $0.0.isFinite && $0.1.isFinite }
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
        if !pts.isEmpty {
            let path = pts.map { "\(f(px($0.0))),\(f(py($0.1)))" }.joined(separator: " ")
            svg += "<polyline fill=\"none\" stroke=\"#1f77b4\" stroke-width=\"2\" points=\"\(path)\"/>\n"
            if pts.count == 1 { svg += "<circle cx=\"\(f(px(pts[0].0)))\" cy=\"\(f(py(pts[0].1)))\" r=\"3\" fill=\"#1f77b4\"/>\n" }
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
