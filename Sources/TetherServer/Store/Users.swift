import Crypto
import Foundation
import GRDB
import HummingbirdBcrypt

/// What an account may do.
public enum Role: String, Sendable, Codable, CaseIterable {
    /// Creates projects, invites people, exports, sees every statistic.
    case admin
    /// Labels their own queue, and nothing else.
    case annotator
}

/// An account.
public struct User: Sendable, Equatable, Codable {
    /// Row id.
    public var id: Int64
    /// Unique login name.
    public var name: String
    /// What the account may do.
    public var role: Role
}

/// A logged-in session: the user, and the CSRF token every form and JSON write must echo.
public struct Session: Sendable, Equatable {
    /// Who is logged in.
    public var user: User
    /// The per-session CSRF token.
    public var csrf: String
    /// When the session stops being valid (seconds since 1970).
    public var expiresAt: Double
}

extension LabelStore {
    /// Cost of new password hashes (2^cost bcrypt rounds); tests lower it.
    public static let defaultBcryptCost: UInt8 = 12

    /// Adds an account; the name must be new. Passwords are stored only as bcrypt hashes.
    @discardableResult
    public func addUser(_ name: String, role: Role, password: String, cost: UInt8 = defaultBcryptCost) throws -> User {
        try Self.validateName(name, field: "user")
        guard password.count >= 8, password.utf8.count <= 72 else {
            throw LabelError(.invalid, "password: expected 8 to 72 bytes (bcrypt reads at most 72)")
        }
        let hash = Bcrypt.hash(password, cost: cost)
        return try pool.write { db in
            if try Int.fetchOne(db, sql: "SELECT 1 FROM users WHERE name = ?", arguments: [name]) != nil {
                throw LabelError(.conflict, "user \"\(name)\" exists already")
            }
            try db.execute(sql: "INSERT INTO users (name, role, password_hash, created_at) VALUES (?, ?, ?, ?)",
                           arguments: [name, role.rawValue, hash, Self.now()])
            return User(id: db.lastInsertedRowID, name: name, role: role)
        }
    }

    /// Every account, by name.
    public func users() throws -> [User] {
        try pool.read { db in try Row.fetchAll(db, sql: "SELECT id, name, role FROM users ORDER BY name").map(Self.user(row:)) }
    }

    static func user(row: Row) -> User {
        User(id: row["id"], name: row["name"], role: Role(rawValue: row["role"]) ?? .annotator)
    }

    /// Failed logins allowed per name in `loginWindow` seconds before that name's logins are refused.
    public static let maxLoginFailures = 5
    /// Failed logins allowed per client address (for any names) in `loginWindow` seconds.
    public static let maxLoginFailuresPerAddress = 20
    /// The rate-limiting window, in seconds.
    public static let loginWindow: Double = 300

    /// Checks a password and opens a session; throws `.tooManyRequests` after repeated failures for the name or address.
    ///
    /// Returns the session and the raw cookie token (only its SHA-256 is stored).
    public func login(name: String, password: String, client: String, lifetime: Double = 8 * 3600) throws -> (Session, token: String) {
        let keys = ["user:" + name, "addr:" + client]
        let since = Self.now() - Self.loginWindow
        let failures = try pool.read { db in
            try keys.map { try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM login_failures WHERE key = ? AND at > ?", arguments: [$0, since]) ?? 0 }
        }
        guard failures[0] < Self.maxLoginFailures, failures[1] < Self.maxLoginFailuresPerAddress else {
            throw LabelError(.tooManyRequests, "too many failed logins; try again in a few minutes")
        }
        let row = try pool.read { db in
            try Row.fetchOne(db, sql: "SELECT id, name, role, password_hash FROM users WHERE name = ?", arguments: [name])
        }
        // Verify against a fixed hash when the name is unknown, so timing does not reveal which names exist.
        let hash: String = row?["password_hash"] ?? Self.unknownUserHash
        guard Bcrypt.verify(password, hash: hash), let row else {
            try pool.write { db in
                let now = Self.now()
                for k in keys { try db.execute(sql: "INSERT INTO login_failures (key, at) VALUES (?, ?)", arguments: [k, now]) }
                _ = try Self.purgeExpired(db, now: now)
            }
            throw LabelError(.unauthenticated, "wrong name or password")
        }
        let token = Self.randomToken(), csrf = Self.randomToken()
        let now = Self.now()
        let session = Session(user: Self.user(row: row), csrf: csrf, expiresAt: now + lifetime)
        try pool.write { db in
            try db.execute(sql: "INSERT INTO sessions (token_hash, user_id, csrf, created_at, expires_at) VALUES (?, ?, ?, ?, ?)",
                           arguments: [Self.sha256(token), session.user.id, csrf, now, session.expiresAt])
            _ = try Self.purgeExpired(db, now: now)
        }
        return (session, token)
    }

    /// The live session for a cookie token, or nil when unknown, ended or expired.
    public func session(token: String) throws -> Session? {
        try pool.read { db in
            guard let row = try Row.fetchOne(db, sql: """
                SELECT s.csrf, s.expires_at, u.id, u.name, u.role FROM sessions s JOIN users u ON u.id = s.user_id
                WHERE s.token_hash = ? AND s.ended_at IS NULL AND s.expires_at > ?
                """, arguments: [Self.sha256(token), Self.now()]) else { return nil }
            return Session(user: Self.user(row: row), csrf: row["csrf"], expiresAt: row["expires_at"])
        }
    }

    /// Ends a session (logout): marks it ended and expires it now, so the next `purgeExpired` deletes it.
    public func logout(token: String) throws {
        try pool.write { db in
            let now = Self.now()
            try db.execute(sql: "UPDATE sessions SET ended_at = ?, expires_at = MIN(expires_at, ?) WHERE token_hash = ? AND ended_at IS NULL",
                           arguments: [now, now, Self.sha256(token)])
        }
    }

    /// A hash no password matches in practice, verified against for unknown names.
    static let unknownUserHash = Bcrypt.hash(randomToken(), cost: defaultBcryptCost)

    /// 32 random bytes from the system's CSPRNG, hex.
    static func randomToken() -> String {
        var g = SystemRandomNumberGenerator()
        return (0..<32).map { _ in String(format: "%02x", UInt8.random(in: 0...255, using: &g)) }.joined()
    }

    static func sha256(_ s: String) -> String {
        SHA256.hash(data: Data(s.utf8)).map { String(format: "%02x", $0) }.joined()
    }
}
