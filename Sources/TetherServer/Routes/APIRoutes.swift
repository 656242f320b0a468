import Foundation
import HTTPTypes
import Hummingbird
import TetherAlign

/// The JSON API under `/api`: the same operations as the pages. Writes need the `X-CSRF-Token` header that login returns.
struct APIRoutes {
    let store: LabelStore
    let sessionLifetime: Double

    /// The header carrying the CSRF token on API writes.
    static let csrfHeader = HTTPField.Name("X-CSRF-Token")!

    func register(on router: Router<LabelContext>) {
        let api = router.group("api")
        api.post("login") { request, context in try await login(request, context: context) }
        api.post("logout") { request, context in try await logout(request, context: context) }
        api.get("projects") { _, context in try await projects(context: context) }
        api.get("projects/:project/next") { _, context in try await next(context: context) }
        api.post("projects/:project/labels") { request, context in try await submit(request, context: context) }
        api.post("projects/:project/undo") { request, context in try await undo(request, context: context) }
        api.get("projects/:project/quality") { _, context in try await quality(context: context) }
        api.get("projects/:project/ranking") { _, context in try await ranking(context: context) }
        api.get("projects/:project/export/:file") { request, context in
            _ = try context.requireAdmin()
            let project = try await Forms.project(context, store: store)
            return try await Exports.response(request, project: project, file: context.parameters.get("file") ?? "", store: store)
        }
    }

    /// An Encodable as a JSON response.
    static func json(_ value: some Encodable, status: HTTPResponse.Status = .ok) throws -> Response {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        var headers = HTTPFields()
        headers[.contentType] = "application/json; charset=utf-8"
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(data: try encoder.encode(value))))
    }

    /// The session, after checking the CSRF header.
    static func writer(_ request: Request, _ context: LabelContext) throws -> Session {
        let s = try context.requireSession()
        try CSRF.check(request.headers[csrfHeader], session: s)
        return s
    }

    struct LoginBody: Decodable { var name: String; var password: String }
    struct LoginReply: Encodable { var user: String; var role: Role; var csrf: String; var expires_at: Double }

    func login(_ request: Request, context: LabelContext) async throws -> Response {
        let body = try await Forms.json(LoginBody.self, request, context: context)
        let store = self.store, lifetime = sessionLifetime, client = context.client
        let (session, token) = try await blocking {
            try store.login(name: body.name, password: body.password, client: client, lifetime: lifetime)
        }
        var response = try Self.json(LoginReply(user: session.user.name, role: session.user.role, csrf: session.csrf,
                                                expires_at: session.expiresAt))
        response.setCookie(SessionCookie.make(token, lifetime: lifetime))
        return response
    }

    func logout(_ request: Request, context: LabelContext) async throws -> Response {
        _ = try Self.writer(request, context)
        if let token = context.token { let store = self.store; try await blocking { try store.logout(token: token) } as Void }
        return Response(status: .noContent)
    }

    struct ProjectReply: Encodable { var id: Int64; var name: String }

    func projects(context: LabelContext) async throws -> Response {
        _ = try context.requireSession()
        let store = self.store
        return try Self.json(try await blocking { try store.projects() }.map { ProjectReply(id: $0.id, name: $0.name) })
    }

    func next(context: LabelContext) async throws -> Response {
        let session = try context.requireSession()
        let project = try await Forms.project(context, store: store)
        let store = self.store
        guard let task = try await blocking({ try store.nextPair(user: session.user, project: project.name) }) else {
            return Response(status: .noContent)
        }
        return try Self.json(task)
    }

    struct LabelBody: Decodable { var assignment: Int64; var choice: Choice; var strength: Strength?; var reason: String? }
    struct LabelReply: Encodable { var id: Int64 }

    func submit(_ request: Request, context: LabelContext) async throws -> Response {
        let session = try Self.writer(request, context)
        _ = try await Forms.project(context, store: store)
        let body = try await Forms.json(LabelBody.self, request, context: context)
        let store = self.store
        let id = try await blocking {
            try store.submit(LabelInput(assignment: body.assignment, choice: body.choice, strength: body.strength, reason: body.reason),
                             user: session.user)
        }
        return try Self.json(LabelReply(id: id), status: .created)
    }

    struct UndoReply: Encodable { var assignment: Int64? }

    func undo(_ request: Request, context: LabelContext) async throws -> Response {
        let session = try Self.writer(request, context)
        let project = try await Forms.project(context, store: store)
        let store = self.store
        return try Self.json(UndoReply(assignment: try await blocking { try store.undo(user: session.user, project: project.name) }))
    }

    func quality(context: LabelContext) async throws -> Response {
        _ = try context.requireAdmin()
        let project = try await Forms.project(context, store: store)
        let store = self.store
        return try Self.json(try await blocking { try store.quality(project: project.name) })
    }

    func ranking(context: LabelContext) async throws -> Response {
        _ = try context.requireAdmin()
        let project = try await Forms.project(context, store: store)
        let store = self.store
        return try Self.json(try await blocking { try store.sourceRanking(project: project.name) })
    }
}
