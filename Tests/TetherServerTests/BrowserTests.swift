import Foundation
import GRDB
import Testing
@testable import TetherServer

/// Where screenshots go: `.build/label-screenshots/` of the package (printed by the test).
func screenshotFolder() throws -> URL {
    let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    let dir = root.appendingPathComponent(".build/label-screenshots")
    try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    return dir
}

@Suite(.serialized) struct BrowserTests {
    static let rows = """
    {"prompt": "How do I reverse a list in Python?", "completions": ["Use slicing:\\n\\n```python\\nxs[::-1]\\n```\\n\\nor `xs.reverse()` to do it **in place**.", "You can't; lists are <b>immutable</b>."], "sources": ["tiny-sft", "tiny-base"]}
    {"prompt": "Name a prime number greater than 10.", "completions": ["11", "12"], "sources": ["tiny-sft", "tiny-base"]}
    {"prompt": "Say hello in French.", "completions": ["Bonjour !", "Hola"], "sources": ["tiny-sft", "tiny-base"]}
    {"prompt": "What is 7 * 6?", "completions": ["42", "48"], "sources": ["tiny-sft", "tiny-base"]}
    """

    @Test(.enabled(if: WebDriver.available, "chromium and chromium-driver are not installed (apt-get install chromium chromium-driver)"))
    func logInLabelWithTheKeyboardUndoAndLogOut() async throws {
        let store = try temporaryStore()
        try store.createProject("demo", annotatorsPerPair: 2, repeatShare: 0)
        try store.importText(Self.rows, project: "demo")
        _ = try store.annotator("root", role: .admin)
        _ = try store.annotator("ann")
        let server = try await RunningServer(store: store)
        let shots = try screenshotFolder()
        let browser = try await WebDriver()
        do {
            try await browser.open(server.base.appendingPathComponent("projects/1/label"))
            #expect(try await browser.currentURL().hasSuffix("/login"), "the labelling page sends a stranger to log in")
            try await browser.type("#name", "ann")
            try await browser.type("#password", "password-ann")
            try await browser.click("#login")
            try await browser.waitForText("h1") { $0 == "Projects" }
            try await browser.open(server.base.appendingPathComponent("projects/1/label"))
            try await browser.waitForText("#progress") { $0.hasPrefix("0 labelled · 4 to go") }
            try browser.screenshotData(try await browser.screenshot(), to: shots.appendingPathComponent("label.png"))
            // 1 then Enter: A. → then Enter: B. 3 then Enter: tie.
            try await browser.press("1", "\u{E007}")
            try await browser.waitForText("#progress") { $0.hasPrefix("1 labelled") }
            try await browser.press("\u{E014}", "\u{E007}")
            try await browser.waitForText("#progress") { $0.hasPrefix("2 labelled") }
            try await browser.press("3", "\u{E007}")
            try await browser.waitForText("#progress") { $0.hasPrefix("3 labelled") }
            // Enter alone does nothing; U undoes the tie.
            try await browser.press("\u{E007}")
            try await browser.press("u")
            try await browser.waitForText("#progress") { $0.hasPrefix("2 labelled") }
            try await browser.click("#logout")
            try await browser.waitForText("h1") { $0 == "Log in" }

            try await browser.type("#name", "root")
            try await browser.type("#password", "password-root")
            try await browser.click("#login")
            try await browser.waitForText("h1") { $0 == "Projects" }
            try await browser.open(server.base.appendingPathComponent("projects/1/admin"))
            try await browser.waitForText("#quality") { $0.contains("ann") }
            try browser.screenshotData(try await browser.screenshot(), to: shots.appendingPathComponent("admin.png"))
            try await browser.open(server.base.appendingPathComponent("projects/1/ranking"))
            try await browser.waitForText("#ranking") { $0.contains("tiny-sft") }
            try browser.screenshotData(try await browser.screenshot(), to: shots.appendingPathComponent("ranking.png"))
            print("label browser test: screenshots in \(shots.path)")
        } catch {
            await browser.quit()
            throw error
        }
        await browser.quit()

        // The database saw exactly what the keyboard did.
        let labels = try await store.pool.read { db in
            try Row.fetchAll(db, sql: "SELECT l.choice, l.retracted_at IS NOT NULL AS undone FROM labels l JOIN users u ON u.id = l.user_id WHERE u.name = 'ann' ORDER BY l.id")
        }
        #expect(labels.map { $0["choice"] as String } == ["a", "b", "tie"])
        #expect(labels.map { $0["undone"] as Bool } == [false, false, true])
        // Logging out ended ann's session (an hour-long one), so root's login purged it.
        let left = try await store.pool.read { db in
            try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM sessions s JOIN users u ON u.id = s.user_id WHERE u.name = 'ann'")
        }
        #expect(left == 0, "logging out ended the session")
    }
}

extension WebDriver {
    func screenshotData(_ data: Data, to url: URL) throws {
        #expect(data.starts(with: [0x89, 0x50, 0x4E, 0x47]), "a PNG")
        try data.write(to: url)
    }
}
