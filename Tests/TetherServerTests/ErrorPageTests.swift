import Foundation
import Testing
@testable import TetherServer

@Suite struct ErrorPageTests {
    /// Checks an HTML error page: status, escaped message, a link home, and the pages' security headers.
    func expectPage(_ r: LabelClient.Reply, _ status: Int, _ message: String, _ what: String) {
        #expect(r.status == status, "\(what): \(r.status) \(r.text)")
        #expect(r.headers["content-type"]?.hasPrefix("text/html") == true, "\(what): \(r.headers["content-type"] ?? "no type")")
        #expect(r.text.contains("<h1 id=\"status\">\(status) "), "\(what): \(r.text)")
        #expect(r.text.contains(message), "\(what): \(r.text)")
        #expect(r.text.contains("<a href=\"/\" id=\"home\">"), "\(what)")
        #expect(r.headers["content-security-policy"]?.contains("default-src 'none'") == true, "\(what)")
    }

    /// Checks a JSON API error: status and `{"error": {"message": ...}}`.
    func expectJSON(_ r: LabelClient.Reply, _ status: Int, _ what: String) throws {
        #expect(r.status == status, "\(what): \(r.status) \(r.text)")
        #expect(r.headers["content-type"]?.hasPrefix("application/json") == true, "\(what): \(r.headers["content-type"] ?? "no type")")
        let body = try JSONSerialization.jsonObject(with: r.body) as? [String: [String: String]]
        #expect(body?["error"]?["message"]?.isEmpty == false, "\(what): \(r.text)")
    }

    @Test func pagesFailWithHTMLAndTheAPIWithJSON() async throws {
        let server = try await populatedServer()
        let ann = server.client(), bob = server.client()
        try await ann.login("ann", "password-ann")
        try await bob.login("bob", "password-bob")
        let t = try #require(try await ann.next("p"))

        // 404: unknown ids and unknown addresses.
        expectPage(try await ann.send("GET", "/projects/999/label"), 404, "no project 999", "unknown project page")
        expectPage(try await ann.send("GET", "/no/such/page"), 404, "no such address", "unknown page")
        try expectJSON(try await ann.send("GET", "/api/projects/999/next"), 404, "unknown project API")
        try expectJSON(try await ann.send("GET", "/api/no/such/route"), 404, "unknown API route")
        // Another annotator's assignment is as unknown as a missing one, on the page and in the API.
        let form = [("assignment", "\(t.assignment)"), ("choice", "a")]
        expectPage(try await bob.send("POST", "/projects/1/label", form: form + [("csrf", bob.csrf!)]), 404,
                   "no assignment \(t.assignment)", "another annotator's id, page")
        try expectJSON(try await bob.submit("p", .init(assignment: t.assignment, choice: .a)), 404, "another annotator's id, API")
        // 403: an annotator on admin addresses, a form without its CSRF token.
        expectPage(try await ann.send("GET", "/projects/1/admin"), 403, "only an admin may do this", "annotator on the admin page")
        expectPage(try await ann.send("GET", "/projects/1/export/kto.jsonl"), 403, "only an admin", "annotator export page")
        expectPage(try await ann.send("POST", "/projects/1/label", form: form), 403, "CSRF", "form without CSRF")
        try expectJSON(try await ann.send("GET", "/api/projects/p/quality"), 403, "annotator quality API")
        // 400: bad forms; 413: too large.
        expectPage(try await ann.send("POST", "/projects/1/label", form: [("assignment", "x"), ("choice", "a"), ("csrf", ann.csrf!)]),
                   400, "assignment", "form with a bad id")
        expectPage(try await ann.send("POST", "/projects/1/label", form: form + [("strength", "9"), ("csrf", ann.csrf!)]), 400,
                   "strength", "bad strength")
        try expectJSON(try await ann.send("POST", "/api/projects/p/labels", raw: Data("{\"choice\": \"a\"}".utf8)), 400, "bad JSON label")
        expectPage(try await ann.send("POST", "/projects/1/label", form: [("reason", String(repeating: "x", count: 100_000))]), 413,
                   "too large", "oversized form")
        try expectJSON(try await ann.send("POST", "/api/projects/p/labels", raw: Data(repeating: 0x20, count: 100_000)), 413, "oversized JSON")
        // 401: a form posted without a session gets a page (a GET is still sent to the login page).
        let anon = server.client()
        expectPage(try await anon.send("POST", "/projects/1/label", form: form), 401, "not logged in", "form without session")
        #expect(try await anon.send("GET", "/projects/1/label").status == 303)
        try expectJSON(try await anon.send("GET", "/api/projects/p/next"), 401, "API without session")
        // The page shows who is logged in, and nothing from the request runs.
        let evil = try await ann.send("GET", "/projects/%3Cscript%3Ealert(1)%3C%2Fscript%3E/label")
        #expect(evil.status == 404 && !evil.text.contains("<script>alert") && evil.text.contains("ann (annotator)"), "\(evil.text)")
        // None of it changed anything: the label still goes through.
        #expect(try await ann.submit("p", .init(assignment: t.assignment, choice: .a)).status == 201)
    }
}
