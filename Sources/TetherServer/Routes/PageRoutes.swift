import Foundation
import Hummingbird
import TetherAlign

/// The HTML pages: login, projects, labelling, and (admins only) quality, ranking and export downloads.
struct PageRoutes {
    let store: LabelStore
    let renderer: Renderer
    /// Session lifetime in seconds.
    let sessionLifetime: Double

    /// The cookie carrying the login form's CSRF token (double submit: the form echoes it).
    static let loginCookie = "tether_login"

    func register(on router: Router<LabelContext>) {
        router.get("/login") { _, context in try await loginPage(context: context) }
        router.post("/login") { request, context in try await login(request, context: context) }
        router.post("/logout") { request, context in try await logout(request, context: context) }
        router.get("/") { _, context in try await home(context: context) }
        router.post("/projects") { request, context in try await createProject(request, context: context) }
        router.post("/users") { request, context in try await addUser(request, context: context) }
        router.get("/projects/:project/label") { _, context in try await labelPage(context: context) }
        router.post("/projects/:project/label") { request, context in try await submit(request, context: context) }
        router.post("/projects/:project/undo") { request, context in try await undo(request, context: context) }
        router.get("/projects/:project/admin") { _, context in try await quality(context: context) }
        router.get("/projects/:project/ranking") { _, context in try await ranking(context: context) }
        router.get("/projects/:project/export/:file") { request, context in try await export(request, context: context) }
    }

    // MARK: login

    func loginPage(context: LabelContext, error: String? = nil, status: HTTPResponse.Status = .ok) async throws -> Response {
        let token = LabelStore.randomToken()
        var data: [String: Any] = ["title": "Log in", "loginCSRF": token]
        if let error { data["error"] = error }
        var response = renderer.page("login", data, session: nil, status: status)
        response.setCookie(Cookie(name: Self.loginCookie, value: token, path: "/login", httpOnly: true, sameSite: .strict))
        return response
    }

    struct LoginForm: Decodable { var name: String; var password: String; var csrf: String? }

    func login(_ request: Request, context: LabelContext) async throws -> Response {
        let form = try await Forms.decode(LoginForm.self, request, context: context)
        guard CSRF.matches(form.csrf, request.cookies[Self.loginCookie]?.value ?? "") else {
            throw LabelError(.forbidden, "missing or wrong CSRF token (reload the login page)")
        }
        let store = self.store, lifetime = sessionLifetime, client = context.client
        do {
            let (session, token) = try await blocking {
                try store.login(name: form.name, password: form.password, client: client, lifetime: lifetime)
            }
            var response = Response.redirect(to: "/", type: .found)
            response.setCookie(SessionCookie.make(token, lifetime: lifetime))
            _ = session
            return response
        } catch let e as LabelError where e.kind == .unauthenticated || e.kind == .tooManyRequests {
            return try await loginPage(context: context, error: e.message, status: e.kind.status)
        }
    }

    struct CSRFForm: Decodable { var csrf: String? }

    func logout(_ request: Request, context: LabelContext) async throws -> Response {
        let session = try context.requireSession()
        try CSRF.check(try await Forms.decode(CSRFForm.self, request, context: context).csrf, session: session)
        if let token = context.token { let store = self.store; try await blocking { try store.logout(token: token) } as Void }
        var response = Response.redirect(to: "/login", type: .found)
        response.setCookie(SessionCookie.make("", lifetime: 0))
        return response
    }

    // MARK: projects and people

    func home(context: LabelContext) async throws -> Response {
        guard let session = context.session else { return Response.redirect(to: "/login", type: .found) }
        let store = self.store
        let projects = try await blocking { try store.projects() }
        return renderer.page("home", ["title": "Projects", "projects": projects.map { ["id": $0.id, "name": $0.name] }], session: session)
    }

    struct ProjectForm: Decodable { var name: String; var annotators_per_pair: Int?; var repeat_share: Double?; var csrf: String? }

    func createProject(_ request: Request, context: LabelContext) async throws -> Response {
        let session = try context.requireAdmin()
        let form = try await Forms.decode(ProjectForm.self, request, context: context)
        try CSRF.check(form.csrf, session: session)
        let store = self.store
        _ = try await blocking {
            if try store.project(named: form.name) != nil { throw LabelError(.conflict, "project \"\(form.name)\" exists already") }
            return try store.createProject(form.name, annotatorsPerPair: form.annotators_per_pair ?? 3, repeatShare: form.repeat_share ?? 0.1)
        }
        return Response.redirect(to: "/", type: .normal)
    }

    struct UserForm: Decodable { var name: String; var password: String; var role: Role; var csrf: String? }

    func addUser(_ request: Request, context: LabelContext) async throws -> Response {
        let session = try context.requireAdmin()
        let form = try await Forms.decode(UserForm.self, request, context: context)
        try CSRF.check(form.csrf, session: session)
        let store = self.store
        _ = try await blocking { try store.addUser(form.name, role: form.role, password: form.password) }
        return Response.redirect(to: "/", type: .normal)
    }

    // MARK: labelling

    func labelPage(context: LabelContext) async throws -> Response {
        let session = try context.requireSession()
        let project = try await Forms.project(context, store: store)
        let store = self.store
        let task = try await blocking { try store.nextPair(user: session.user, project: project.name) }
        var data: [String: Any] = ["title": project.name, "project": project.name, "projectID": project.id]
        if let t = task {
            data["task"] = ["assignment": t.assignment, "done": t.done, "remaining": t.remaining,
                            "prompt": Renderer.parts(t.prompt), "a": Renderer.parts(t.a), "b": Renderer.parts(t.b)]
        } else {
            data["done"] = try await blocking { try store.labelCount(user: session.user, project: project.name) }
        }
        return renderer.page("label", data, session: session)
    }

    /// The label form; ids and choices arrive as text and are checked by `Forms`, which names the field at fault.
    struct LabelForm: Decodable { var assignment: String; var choice: String; var strength: String?; var reason: String?; var csrf: String? }

    func submit(_ request: Request, context: LabelContext) async throws -> Response {
        let session = try context.requireSession()
        let project = try await Forms.project(context, store: store)
        let form = try await Forms.decode(LabelForm.self, request, context: context)
        try CSRF.check(form.csrf, session: session)
        let strength = try Forms.strength(form.strength)
        let input = LabelInput(assignment: try Forms.id(form.assignment, field: "assignment"), choice: try Forms.choice(form.choice),
                               strength: strength, reason: form.reason)
        let store = self.store
        do {
            _ = try await blocking { try store.submit(input, user: session.user) }
        } catch let e as LabelError where e.kind == .conflict {
            // A double click or a resent form: the first submit counted; show the next pair.
        }
        return Response.redirect(to: "/projects/\(project.id)/label", type: .normal)
    }

    func undo(_ request: Request, context: LabelContext) async throws -> Response {
        let session = try context.requireSession()
        let project = try await Forms.project(context, store: store)
        try CSRF.check(try await Forms.decode(CSRFForm.self, request, context: context).csrf, session: session)
        let store = self.store
        _ = try await blocking { try store.undo(user: session.user, project: project.name) }
        return Response.redirect(to: "/projects/\(project.id)/label", type: .normal)
    }

    // MARK: admin

    func quality(context: LabelContext) async throws -> Response {
        let session = try context.requireAdmin()
        let project = try await Forms.project(context, store: store)
        let store = self.store
        let (q, c) = try await blocking { (try store.quality(project: project.name), try store.counts(project: project.name)) }
        func f(_ x: Double?, _ digits: Int = 2) -> String { x.map { String(format: "%.\(digits)f", $0) } ?? "–" }
        let rows: [[String: Any]] = q.annotators.map { a in
            ["user": a.user, "labels": a.labels, "skips": a.skips, "seconds": f(a.medianSeconds, 1), "kappa": f(a.kappa),
             "consistency": f(a.selfConsistency), "repeats": a.repeats, "gold": f(a.goldAccuracy), "goldAnswered": a.goldAnswered,
             "shareA": f(a.shareA)]
        }
        return renderer.page("quality", ["title": "\(project.name): quality", "project": project.name, "items": c.items,
                                         "pairs": c.pairs, "labels": c.labels, "alpha": f(q.alpha, 3), "shareA": f(q.shareA),
                                         "annotators": rows], session: session)
    }

    func ranking(context: LabelContext) async throws -> Response {
        let session = try context.requireAdmin()
        let project = try await Forms.project(context, store: store)
        let store = self.store
        let ranks = try await blocking { try store.sourceRanking(project: project.name) }
        let rows: [[String: Any]] = ranks.map { r in
            ["source": r.source, "elo": String(format: "%.0f", r.elo), "games": String(format: "%g", r.games),
             "low": r.eloLow.isFinite ? String(format: "%.0f", r.eloLow) : "–", "high": r.eloHigh.isFinite ? String(format: "%.0f", r.eloHigh) : "–"]
        }
        return renderer.page("ranking", ["title": "\(project.name): ranking", "project": project.name, "ranks": rows], session: session)
    }

    func export(_ request: Request, context: LabelContext) async throws -> Response {
        _ = try context.requireAdmin()
        let project = try await Forms.project(context, store: store)
        return try await Exports.response(request, project: project, file: context.parameters.get("file") ?? "", store: store)
    }
}

/// The session cookie: HttpOnly, SameSite=Strict, whole site.
enum SessionCookie {
    static func make(_ token: String, lifetime: Double) -> Cookie {
        Cookie(name: SessionMiddleware.cookie, value: token, maxAge: Int(lifetime), path: "/", httpOnly: true, sameSite: .strict)
    }
}
