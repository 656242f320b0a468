import Foundation
import Hummingbird
import Testing
import TetherAlign
@testable import TetherServer

/// A server on a free loopback port, for one test.
final class RunningServer: @unchecked Sendable {
    let store: LabelStore
    let base: URL
    private let task: Task<Void, any Error>

    init(store: LabelStore, sessionLifetime: Double = 3600) async throws {
        self.store = store
        let ports = AsyncStream<Int>.makeStream()
        let app = try LabelServer(store: store, sessionLifetime: sessionLifetime).application(host: "127.0.0.1", port: 0, logLevel: .critical) {
            ports.continuation.yield($0)
        }
        task = Task { try await app.runService(gracefulShutdownSignals: []) }
        var it = ports.stream.makeAsyncIterator()
        base = URL(string: "http://127.0.0.1:\(await it.next()!)")!
    }

    func client() -> LabelClient { LabelClient(base: base) }

    deinit { task.cancel() }
}

/// A store with project "p" (K = 3, no repeats), an admin "root" and annotators "ann" and "bob".
func populatedServer(rows: String = pairRows(3)) async throws -> RunningServer {
    let store = try temporaryStore()
    try store.createProject("p", annotatorsPerPair: 3, repeatShare: 0)
    try store.importText(rows, project: "p")
    for (name, role) in [("root", Role.admin), ("ann", .annotator), ("bob", .annotator)] { _ = try store.annotator(name, role: role) }
    return try await RunningServer(store: store)
}

@Suite struct HTTPTests {
    @Test func apiLabelsUndoesAndExports() async throws {
        let server = try await populatedServer()
        let ann = server.client()
        try await ann.login("ann", "password-ann")
        #expect(ann.cookies["tether_session"]?.count == 64)
        let t = try #require(try await ann.next("p"))
        #expect(try await ann.next("1")?.assignment == t.assignment, "a project is named by id or name")
        let r = try await ann.submit("p", .init(assignment: t.assignment, choice: .a, strength: .much, reason: "clearer"))
        #expect(r.status == 201)
        #expect(try await ann.submit("p", .init(assignment: t.assignment, choice: .b)).status == 409)
        let undo = try await ann.send("POST", "/api/projects/p/undo")
        #expect(undo.status == 200 && undo.text == "{\"assignment\":\(t.assignment)}")
        #expect(try await ann.submit("p", .init(assignment: t.assignment, choice: .b)).status == 201)
        while let t = try await ann.next("p") { _ = try await ann.submit("p", .init(assignment: t.assignment, choice: .tie)) }

        let root = server.client()
        try await root.login("root", "password-root")
        let export = try await root.send("GET", "/api/projects/p/export/preference.jsonl")
        #expect(export.status == 200 && export.text.split(separator: "\n").count == 1 && export.text.contains("\"chosen\""))
        #expect(try await root.send("GET", "/api/projects/p/export/kto.jsonl?ties=desirable").text.split(separator: "\n").count == 6)
        #expect(try await root.send("GET", "/api/projects/p/quality").text.contains("\"user\":\"ann\""))
        #expect(try await root.send("GET", "/api/projects/p/ranking").status == 200)
        #expect(try await root.send("GET", "/api/projects/p/export/preference.jsonl?min_agreement=2").status == 400)
    }

    @Test func badInputGetsAClear4xxNeverA500() async throws {
        let server = try await populatedServer()
        let ann = server.client(), bob = server.client()
        try await ann.login("ann", "password-ann")
        try await bob.login("bob", "password-bob")
        let t = try #require(try await ann.next("p"))
        func expectStatus(_ r: LabelClient.Reply, _ status: Int, _ what: String, contains: String? = nil) {
            #expect(r.status == status, "\(what): \(r.status) \(r.text)")
            if let contains { #expect(r.text.contains(contains), "\(what): \(r.text)") }
        }
        let labels = "/api/projects/p/labels"
        expectStatus(try await ann.send("POST", labels, raw: Data("{\"assignment\": ".utf8)), 400, "malformed JSON", contains: "not valid JSON")
        expectStatus(try await ann.send("POST", labels, raw: Data("{\"assignment\": 1, \"choice\": \"maybe\"}".utf8)), 400, "bad choice", contains: "choice")
        expectStatus(try await ann.send("POST", labels, raw: Data("{\"choice\": \"a\"}".utf8)), 400, "missing field", contains: "assignment")
        expectStatus(try await ann.send("POST", labels, raw: Data(repeating: 0x20, count: 200_000)), 413, "oversized body")
        expectStatus(try await ann.submit("p", .init(assignment: 987_654, choice: .a)), 404, "unknown id")
        expectStatus(try await bob.submit("p", .init(assignment: t.assignment, choice: .a)), 404, "another annotator's assignment")
        expectStatus(try await ann.send("GET", "/api/projects/nope/next"), 404, "unknown project")
        expectStatus(try await ann.send("GET", "/api/projects/p/export/preference.jsonl"), 403, "annotator export")
        expectStatus(try await ann.send("GET", "/projects/1/export/kto.jsonl"), 403, "annotator export page")
        expectStatus(try await ann.send("GET", "/api/projects/p/quality"), 403, "annotator quality")
        expectStatus(try await ann.send("GET", "/projects/1/admin"), 403, "annotator admin page")
        expectStatus(try await ann.send("GET", "/projects/1/ranking"), 403, "annotator ranking page")
        let saved = ann.csrf
        ann.csrf = nil
        expectStatus(try await ann.submit("p", .init(assignment: t.assignment, choice: .a)), 403, "missing CSRF", contains: "CSRF")
        ann.csrf = String(repeating: "0", count: 64)
        expectStatus(try await ann.submit("p", .init(assignment: t.assignment, choice: .a)), 403, "wrong CSRF")
        ann.csrf = saved
        expectStatus(try await ann.send("POST", "/projects/1/label", form: [("assignment", "\(t.assignment)"), ("choice", "a")]), 403,
                     "form without CSRF")
        expectStatus(try await ann.send("POST", "/projects/1/label", form: [("assignment", "x"), ("choice", "a"), ("csrf", saved!)]), 400,
                     "form with a bad id")
        expectStatus(try await ann.send("POST", "/projects/1/label", form: [("assignment", "\(t.assignment)"), ("choice", "a"),
                                                                             ("strength", "9"), ("csrf", saved!)]), 400, "bad strength")
        // Anonymous and expired sessions.
        let anon = server.client()
        expectStatus(try await anon.send("GET", "/api/projects/p/next"), 401, "no session")
        expectStatus(try await anon.send("GET", "/projects/1/label"), 303, "page without session redirects to login")
        let (_, expired) = try server.store.login(name: "ann", password: "password-ann", client: "test", lifetime: -1)
        anon.cookies = ["tether_session": expired]
        expectStatus(try await anon.send("GET", "/api/projects/p/next"), 401, "expired session")
        // The label still goes through afterwards: nothing above changed the state.
        expectStatus(try await ann.submit("p", .init(assignment: t.assignment, choice: .a)), 201, "valid label")
    }

    @Test func loginIsRateLimitedAndLogoutEndsTheSession() async throws {
        let server = try await populatedServer()
        let c = server.client()
        for _ in 0..<LabelStore.maxLoginFailures {
            #expect(try await c.send("POST", "/api/login", json: ["name": "ann", "password": "wrong-password"]).status == 401)
        }
        #expect(try await c.send("POST", "/api/login", json: ["name": "ann", "password": "password-ann"]).status == 429,
                "even the right password waits once the name is locked")
        let b = server.client()
        try await b.login("bob", "password-bob")  // same address, another name: not locked out
        #expect(try await b.send("POST", "/api/logout").status == 204)
        #expect(try await b.send("GET", "/api/projects").status == 401)
    }

    @Test func onlyAdminsCreateProjectsAndAccountsFromTheForms() async throws {
        let server = try await populatedServer()
        let root = server.client(), ann = server.client()
        try await root.login("root", "password-root")
        try await ann.login("ann", "password-ann")
        let project = [("name", "second"), ("annotators_per_pair", "2"), ("repeat_share", "0.2")]
        #expect(try await ann.send("POST", "/projects", form: project + [("csrf", ann.csrf!)]).status == 403)
        #expect(try await root.send("POST", "/projects", form: project).status == 403, "no CSRF token")
        #expect(try await root.send("POST", "/projects", form: project + [("csrf", root.csrf!)]).status == 303)
        #expect(try await root.send("POST", "/projects", form: project + [("csrf", root.csrf!)]).status == 409)
        #expect(try server.store.project(named: "second")?.annotatorsPerPair == 2)
        let invite = [("name", "carol"), ("password", "password-carol"), ("role", "annotator")]
        #expect(try await ann.send("POST", "/users", form: invite + [("csrf", ann.csrf!)]).status == 403)
        #expect(try await root.send("POST", "/users", form: [("name", "dave"), ("password", "short"), ("role", "annotator"), ("csrf", root.csrf!)]).status == 400)
        #expect(try await root.send("POST", "/users", form: invite + [("csrf", root.csrf!)]).status == 303)
        let carol = server.client()
        try await carol.login("carol", "password-carol")
        #expect(try await carol.next("p") != nil)
        let home = try await root.send("GET", "/")
        #expect(home.status == 200 && home.text.contains("second") && home.text.contains("Invite someone"))
        #expect(!(try await carol.send("GET", "/")).text.contains("Invite someone"))
    }

    @Test func pagesEscapeEverythingFromTheData() async throws {
        let evil = #"{"prompt": "<img src=x onerror=alert(1)>", "completions": ["<script>alert('a')</script>", "```html\n<b>bold</b>\n```"]}"#
        let server = try await populatedServer(rows: evil + "\n")
        let ann = server.client()
        let loginPage = try await ann.send("GET", "/login")
        #expect(loginPage.status == 200 && ann.cookies["tether_login"] != nil)
        let token = try #require(ann.cookies["tether_login"])
        #expect(try await ann.send("POST", "/login", form: [("name", "ann"), ("password", "password-ann")]).status == 403, "login form needs its CSRF token")
        let ok = try await ann.send("POST", "/login", form: [("name", "ann"), ("password", "password-ann"), ("csrf", token)])
        #expect(ok.status == 302 && ok.headers["set-cookie"]?.contains("HttpOnly") == true && ok.headers["set-cookie"]?.contains("SameSite=Strict") == true)
        let page = try await ann.send("GET", "/projects/1/label")
        #expect(page.status == 200)
        #expect(!page.text.contains("<script>alert") && page.text.contains("&lt;script&gt;alert"))
        #expect(!page.text.contains("<img src=x") && page.text.contains("&lt;img src=x onerror=alert(1)&gt;"))
        #expect(page.text.contains("&lt;b&gt;bold&lt;/b&gt;"))
        #expect(page.headers["content-security-policy"]?.contains("script-src 'nonce-") == true)
    }
}
