import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Progress on standard error: a live bar on a terminal, plain periodic lines otherwise (CI logs).
public struct ProgressReporter: Sendable {
    /// How progress is shown.
    public enum Style: Sendable { case bar, lines, silent }
    /// The style in use.
    public var style: Style
    /// In `lines` style, print every N steps (and the last).
    public var every: Int

    /// A bar when standard error is a terminal, else a line every `every` steps.
    public init(every: Int = 10) {
        style = isatty(2) != 0 ? .bar : .lines
        self.every = max(1, every)
    }

    /// Nothing printed.
    public static var silent: ProgressReporter { var p = ProgressReporter(); p.style = .silent; return p }

    /// A message on its own line.
    public func message(_ text: String) {
        guard style != .silent else { return }
        FileHandle.standardError.write(Data((text + "\n").utf8))
    }

    /// Shows step `step` of `total`.
    public func update(step: Int, total: Int, loss: Double, tokensPerSecond: Double, elapsed: Double) {
        let eta = step > 0 ? elapsed / Double(step) * Double(total - step) : 0
        let stats = String(format: "loss %.4f  %.0f tok/s  elapsed %@  eta %@", loss, tokensPerSecond,
                           Self.clock(elapsed), Self.clock(eta))
        switch style {
        case .silent: return
        case .lines:
            guard step % every == 0 || step == total else { return }
            message("step \(step)/\(total)  " + stats)
        case .bar:
            let width = 30, filled = total > 0 ? width * step / total : width
            let bar = String(repeating: "█", count: filled) + String(repeating: "·", count: width - filled)
            let end = step == total ? "\n" : ""
            FileHandle.standardError.write(Data("\r\u{1B}[2K\(bar) \(step)/\(total)  \(stats)\(end)".utf8))
        }
    }

    /// `h:mm:ss` or `m:ss`.
    static func clock(_ seconds: Double) -> String {
        let s = Int(seconds.isFinite ? max(0, seconds) : 0)
        return s >= 3600 ? String(format: "%d:%02d:%02d", s / 3600, s / 60 % 60, s % 60) : String(format: "%d:%02d", s / 60, s % 60)
    }
}
