import Foundation
@testable import TetherServer
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// A headless Chromium driven over the W3C WebDriver protocol (JSON over HTTP to `chromedriver`).
final class WebDriver: @unchecked Sendable {
    static let chromium = ["/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome"]
        .first { FileManager.default.isExecutableFile(atPath: $0) }
    static let chromedriver = ["/usr/bin/chromedriver", "/usr/lib/chromium/chromedriver"]
        .first { FileManager.default.isExecutableFile(atPath: $0) }
    /// Whether both are installed (`.ci/run` installs Debian's `chromium` and `chromium-driver`).
    static var available: Bool { chromium != nil && chromedriver != nil }

    private let process = Process()
    private let port: Int
    private var session = ""
    private static let elementKey = "element-6066-11e4-a52e-4f735466cecf"

    struct Failure: Error, CustomStringConvertible { var description: String }

    /// Starts chromedriver on a free port and opens a headless browser session.
    init() async throws {
        let port = try Self.freePort()
        process.executableURL = URL(fileURLWithPath: Self.chromedriver!)
        process.arguments = ["--port=\(port)"]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        self.port = port
        var ready = false, last = ""
        for _ in 0..<100 where !ready {
            do { ready = try await call("GET", "/status")["ready"] as? Bool ?? false } catch { last = "\(error)" }
            if !ready { try await Task.sleep(nanoseconds: 100_000_000) }
        }
        guard ready else {
            stop()
            throw Failure(description: "chromedriver on port \(port) did not start: \(last)")
        }
        let caps: [String: Any] = ["capabilities": ["alwaysMatch": ["browserName": "chrome", "goog:chromeOptions": [
            "binary": Self.chromium!,
            "args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--window-size=1200,820"],
        ]]]]
        let value: [String: Any]
        do { value = try await call("POST", "/session", caps) } catch { stop(); throw error }
        guard let id = value["sessionId"] as? String else { stop(); throw Failure(description: "no session: \(value)") }
        session = id
    }

    func quit() async {
        _ = try? await call("DELETE", "/session/\(session)")
        stop()
    }

    /// Ends chromedriver (it ignores SIGTERM once a session has run).
    func stop() {
        guard process.isRunning else { return }
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
    }

    /// One WebDriver command; returns the reply's `value` (as an object when it is one).
    @discardableResult
    func call(_ method: String, _ path: String, _ body: [String: Any]? = nil) async throws -> [String: Any] {
        let any = try await callAny(method, path, body)
        return any as? [String: Any] ?? ["value": any as Any]
    }

    func callAny(_ method: String, _ path: String, _ body: [String: Any]? = nil) async throws -> Any? {
        // chromedriver writes "Name:value" headers without a space, which FoundationNetworking rejects; so plain HTTP/1.1.
        if ProcessInfo.processInfo.environment["WEBDRIVER_DEBUG"] != nil { print("webdriver:", method, path) }
        // Off Swift's cooperative pool (blocking sockets), which the in-process server's handlers need.
        let payload = try body.map { try JSONSerialization.data(withJSONObject: $0) }
        let port = self.port
        let (status, data) = try await blocking { try Self.http(port: port, method: method, path: path, body: payload) }
        let object = try JSONSerialization.jsonObject(with: data) as? [String: Any]
        guard status == 200 else {
            throw Failure(description: "\(method) \(path): \(String(decoding: data, as: UTF8.self).prefix(500))")
        }
        return object?["value"]
    }

    func open(_ url: URL) async throws { try await call("POST", "/session/\(session)/url", ["url": url.absoluteString]) }

    func find(_ css: String) async throws -> String {
        let v = try await call("POST", "/session/\(session)/element", ["using": "css selector", "value": css])
        guard let id = v[Self.elementKey] as? String else { throw Failure(description: "no element \(css)") }
        return id
    }

    func type(_ css: String, _ text: String) async throws {
        try await call("POST", "/session/\(session)/element/\(try await find(css))/value", ["text": text])
    }

    func click(_ css: String) async throws { try await call("POST", "/session/\(session)/element/\(try await find(css))/click", [:]) }

    func text(_ css: String) async throws -> String {
        try await callAny("GET", "/session/\(session)/element/\(try await find(css))/text") as? String ?? ""
    }

    func currentURL() async throws -> String { try await callAny("GET", "/session/\(session)/url") as? String ?? "" }

    /// Presses and releases keys on the page (WebDriver key codes: Enter "\u{E007}", ← "\u{E012}", → "\u{E014}").
    func press(_ keys: String...) async throws {
        var actions: [[String: Any]] = []
        for k in keys { actions += [["type": "keyDown", "value": k], ["type": "keyUp", "value": k]] }
        try await call("POST", "/session/\(session)/actions", ["actions": [["type": "key", "id": "keyboard", "actions": actions]]])
        try await call("DELETE", "/session/\(session)/actions")
    }

    /// Polls `css`'s text until `predicate` holds (10 s at most).
    @discardableResult
    func waitForText(_ css: String, _ predicate: (String) -> Bool) async throws -> String {
        var last = ""
        for _ in 0..<100 {
            if let t = try? await text(css) { last = t; if predicate(t) { return t } }
            try await Task.sleep(nanoseconds: 100_000_000)
        }
        throw Failure(description: "\(css) never matched; last text: \(last)")
    }

    /// A PNG of the viewport.
    func screenshot() async throws -> Data {
        guard let b64 = try await callAny("GET", "/session/\(session)/screenshot") as? String, let data = Data(base64Encoded: b64) else {
            throw Failure(description: "no screenshot")
        }
        return data
    }

    /// One HTTP/1.1 request on a new loopback connection (`Connection: close`, so the body ends at EOF).
    static func http(port: Int, method: String, path: String, body: Data?) throws -> (Int, Data) {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw Failure(description: "socket failed") }
        defer { close(fd) }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        addr.sin_port = UInt16(port).bigEndian
        let connected = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0 }
        }
        guard connected else { throw Failure(description: "cannot connect to 127.0.0.1:\(port)") }
        var request = Data("\(method) \(path) HTTP/1.1\r\nHost: 127.0.0.1:\(port)\r\nConnection: close\r\n".utf8)
        if let body { request += Data("Content-Type: application/json\r\nContent-Length: \(body.count)\r\n".utf8) }
        request += Data("\r\n".utf8) + (body ?? Data())
        try request.withUnsafeBytes { raw in
            var sent = 0
            while sent < raw.count {
                let n = send(fd, raw.baseAddress! + sent, raw.count - sent, 0)
                guard n > 0 else { throw Failure(description: "send failed") }
                sent += n
            }
        }
        // Read the head, then the body by Content-Length (or to EOF, or chunked).
        var response = Data()
        var buffer = [UInt8](repeating: 0, count: 65536)
        var head = "", bodyStart = 0, length: Int?
        while true {
            if head.isEmpty, let split = response.firstRange(of: Data("\r\n\r\n".utf8)) {
                head = String(decoding: response[..<split.lowerBound], as: UTF8.self)
                bodyStart = split.upperBound
                for line in head.split(separator: "\r\n") where line.lowercased().hasPrefix("content-length:") {
                    length = Int(line.dropFirst("content-length:".count).trimmingCharacters(in: .whitespaces))
                }
            }
            if !head.isEmpty, let length, response.count - bodyStart >= length { break }
            let n = recv(fd, &buffer, buffer.count, 0)
            if n <= 0 { break }
            response.append(buffer, count: n)
        }
        guard !head.isEmpty else { throw Failure(description: "no HTTP reply from 127.0.0.1:\(port)") }
        let status = Int(head.split(separator: " ").dropFirst().first ?? "") ?? 0
        var payload = Data(response[bodyStart...])
        if let length { payload = payload.prefix(length) }
        if head.lowercased().contains("transfer-encoding:chunked") || head.lowercased().contains("transfer-encoding: chunked") {
            payload = dechunk(payload)
        }
        return (status, payload)
    }

    static func dechunk(_ d: Data) -> Data {
        var out = Data(), i = d.startIndex
        while let eol = d[i...].firstRange(of: Data("\r\n".utf8)),
              let size = Int(String(decoding: d[i..<eol.lowerBound], as: UTF8.self).split(separator: ";")[0], radix: 16), size > 0 {
            out += d[eol.upperBound..<(eol.upperBound + size)]
            i = eol.upperBound + size + 2
        }
        return out
    }

    static func freePort() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        addr.sin_port = 0
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        let ok = withUnsafeMutablePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, len) == 0 && getsockname(fd, $0, &len) == 0 }
        }
        guard ok else { throw Failure(description: "cannot find a free port") }
        return Int(UInt16(bigEndian: addr.sin_port))
    }
}
