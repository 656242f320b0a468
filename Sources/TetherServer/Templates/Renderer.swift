import Foundation
import Hummingbird
import Mustache
import TetherAlign

/// Renders the pages: HTML-escaped Mustache, with the header, footer and text partials.
struct Renderer: Sendable {
    let library: MustacheLibrary

    init() throws {
        var library = MustacheLibrary()
        try library.register(LayoutTemplates.header, named: "header")
        try library.register(LayoutTemplates.footer, named: "footer")
        try library.register(LayoutTemplates.text, named: "text")
        for (name, text) in [("login", PageTemplates.login), ("home", PageTemplates.home), ("label", PageTemplates.label),
                             ("quality", PageTemplates.quality), ("ranking", PageTemplates.ranking), ("error", PageTemplates.error)] {
            try library.register(text, named: name)
        }
        self.library = library
    }

    /// A page as an HTML response; `data` gets the session's user and CSRF token.
    func page(_ name: String, _ data: [String: Any], session: Session?, status: HTTPResponse.Status = .ok) -> Response {
        var data = data
        let nonce = LabelStore.randomToken()
        data["nonce"] = nonce
        if let session {
            data["user"] = ["name": session.user.name, "role": session.user.role.rawValue, "csrf": session.csrf]
            data["csrf"] = session.csrf
            data["admin"] = session.user.role == .admin
        }
        let html = library.render(data, withTemplate: name) ?? "template \(name) missing"
        var headers = HTTPFields()
        headers[.contentType] = "text/html; charset=utf-8"
        // Nothing from the data can run: only our script (by nonce), no plugins, no framing.
        headers[.contentSecurityPolicy] = "default-src 'none'; style-src 'unsafe-inline'; script-src 'nonce-\(nonce)'; form-action 'self'; frame-ancestors 'none'"
        headers[.xContentTypeOptions] = "nosniff"
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(string: html)))
    }

    /// A prompt or completion for the `text` partial: one part per message (with its role), or one part for a string.
    static func parts(_ v: JSONValue) -> [String: Any] {
        switch v {
        case .string(let s): return ["parts": [["content": s]]]
        case .array(let messages):
            return ["parts": messages.map { m -> [String: Any] in
                guard case .object(let o) = m else { return ["content": "\(m)"] }
                return ["role": o["role"]?.string ?? "", "content": o["content"]?.string ?? ""]
            }]
        default: return ["parts": [["content": "\(v)"]]]
        }
    }
}
