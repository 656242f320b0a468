import Foundation
import TetherAlign

/// A fresh temporary folder for one test's files.
func tempDir() -> URL {
    let u = FileManager.default.temporaryDirectory.appendingPathComponent("tether-align-\(UUID().uuidString)")
    try! FileManager.default.createDirectory(at: u, withIntermediateDirectories: true)
    return u
}

/// Writes `lines` joined by newlines to `name` in a fresh folder and returns its URL.
func write(_ name: String, _ lines: [String]) -> URL {
    let u = tempDir().appendingPathComponent(name)
    try! lines.joined(separator: "\n").write(to: u, atomically: true, encoding: .utf8)
    return u
}

/// The error `body` throws, or nil.
func datasetError(_ body: () throws -> Void) -> DatasetError? {
    do { try body() } catch { return error as? DatasetError }
    return nil
}
