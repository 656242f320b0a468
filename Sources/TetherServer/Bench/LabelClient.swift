import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import TetherAlign

/// A small HTTP client for the labelling API (and pages): keeps the session cookie and CSRF token, never follows redirects.
///
/// Used by `tether label bench` and by the tests.
public final class LabelClient: NSObject, URLSessionTaskDelegate, @unchecked Sendable {
    /// One HTTP reply.
    public struct Reply: Sendable {
        /// The status code.
        public var status: Int
        /// The body.
        public var body: Data
        /// Response headers, names lower-cased.
        public var headers: [String: String]
        /// The body as UTF-8 text.
        public var text: String { String(decoding: body, as: UTF8.self) }
    }

    /// The server's root, e.g. `http://127.0.0.1:8080`.
    public let base: URL
    private let lock = NSLock()
    private var _cookies: [String: String] = [:]
    private var _csrf: String?
    private lazy var session: URLSession = {
        let c = URLSessionConfiguration.ephemeral
        c.httpShouldSetCookies = false
        c.httpCookieAcceptPolicy = .never
        c.timeoutIntervalForRequest = 30
        c.httpMaximumConnectionsPerHost = 1
        return URLSession(configuration: c, delegate: self, delegateQueue: nil)
    }()

    /// A client of the server at `base`.
    public init(base: URL) { self.base = base }

    /// The CSRF token from the last API login.
    public var csrf: String? {
        get { lock.withLock { _csrf } }
        set { lock.withLock { _csrf = newValue } }
    }

    /// Cookies the server has set (name → value).
    public var cookies: [String: String] {
        get { lock.withLock { _cookies } }
        set { lock.withLock { _cookies = newValue } }
    }

    public func urlSession(_ session: URLSession, task: URLSessionTask, willPerformHTTPRedirection response: HTTPURLResponse,
                           newRequest request: URLRequest, completionHandler: @escaping (URLRequest?) -> Void) {
        completionHandler(nil)
    }

    /// Sends a request; `json` is encoded as the body, `form` as a urlencoded body, `raw` as is.
    public func send(_ method: String, _ path: String, json: (any Encodable)? = nil, form: [(String, String)]? = nil,
                     raw: Data? = nil, headers: [String: String] = [:]) async throws -> Reply {
        var request = URLRequest(url: URL(string: path, relativeTo: base)!)
        request.httpMethod = method
        if let json {
            request.httpBody = try JSONEncoder().encode(json)
            request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        } else if let form {
            var allowed = CharacterSet.alphanumerics
            allowed.insert(charactersIn: "-._~")
            request.httpBody = Data(form.map { "\($0.0)=\($0.1.addingPercentEncoding(withAllowedCharacters: allowed)!)" }
                .joined(separator: "&").utf8)
            request.setValue("application/x-www-form-urlencoded", forHTTPHeaderField: "Content-Type")
        } else if let raw {
            request.httpBody = raw
            request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        }
        let jar = cookies
        if !jar.isEmpty { request.setValue(jar.map { "\($0.key)=\($0.value)" }.sorted().joined(separator: "; "), forHTTPHeaderField: "Cookie") }
        if let csrf, method != "GET" { request.setValue(csrf, forHTTPHeaderField: "X-CSRF-Token") }
        for (k, v) in headers { request.setValue(v, forHTTPHeaderField: k) }
        let (data, response) = try await session.data(for: request)
        let http = response as! HTTPURLResponse
        var out: [String: String] = [:]
        for (k, v) in http.allHeaderFields { out[String(describing: k).lowercased()] = String(describing: v) }
        if let setCookie = out["set-cookie"] {
            // One or more "name=value; attrs" (Foundation may join several with ", ").
            for part in setCookie.components(separatedBy: ", ") {
                let pair = part.split(separator: ";", maxSplits: 1)[0]
                guard let eq = pair.firstIndex(of: "=") else { continue }
                let name = String(pair[..<eq]).trimmingCharacters(in: .whitespaces)
                guard name.allSatisfy({ $0.isLetter || $0 == "_" }) else { continue }
                lock.withLock { _cookies[name] = String(pair[pair.index(after: eq)...]) }
            }
        }
        return Reply(status: http.statusCode, body: data, headers: out)
    }

    struct Login: Encodable { var name: String; var password: String }
    struct LoginReply: Decodable { var csrf: String }

    /// Logs in through the API and keeps the cookie and CSRF token; throws on any status but 200.
    public func login(_ name: String, _ password: String) async throws {
        let r = try await send("POST", "/api/login", json: Login(name: name, password: password))
        guard r.status == 200 else { throw LabelError(.unauthenticated, "login \(name): HTTP \(r.status) \(r.text)") }
        csrf = try JSONDecoder().decode(LoginReply.self, from: r.body).csrf
    }

    /// The next pair of `project` (its id or name), or nil when the queue is empty.
    public func next(_ project: String) async throws -> PairTask? {
        let r = try await send("GET", "/api/projects/\(project)/next")
        if r.status == 204 { return nil }
        guard r.status == 200 else { throw LabelError(.invalid, "next: HTTP \(r.status) \(r.text)") }
        return try JSONDecoder().decode(PairTask.self, from: r.body)
    }

    /// A label as the API takes it.
    public struct LabelBody: Encodable, Sendable {
        /// The assignment.
        public var assignment: Int64
        /// a, b, tie, both_bad or skip.
        public var choice: Choice
        /// 1–3, with a or b.
        public var strength: Strength?
        /// Free text.
        public var reason: String?

        /// A label.
        public init(assignment: Int64, choice: Choice, strength: Strength? = nil, reason: String? = nil) {
            self.assignment = assignment
            self.choice = choice
            self.strength = strength
            self.reason = reason
        }
    }

    /// Submits a label; returns the HTTP reply (201 when stored).
    public func submit(_ project: String, _ body: LabelBody) async throws -> Reply {
        try await send("POST", "/api/projects/\(project)/labels", json: body)
    }
}
