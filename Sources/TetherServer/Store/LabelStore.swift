import Foundation
import GRDB

/// An error in a labelling request that the user can fix; each maps to one HTTP status.
public struct LabelError: Error, Sendable, Equatable, CustomStringConvertible {
    /// What kind of failure (and which 4xx it becomes).
    public enum Kind: Sendable, Equatable {
        /// 400: the request is malformed or a field is out of range.
        case invalid
        /// 401: not logged in, or the session expired.
        case unauthenticated
        /// 403: logged in, but not allowed (wrong role, bad CSRF token).
        case forbidden
        /// 404: no such thing, or not this user's (the two are not told apart).
        case notFound
        /// 409: the thing exists already (a label for this assignment, a user name).
        case conflict
        /// 429: too many attempts.
        case tooManyRequests
    }

    /// The kind of failure.
    public var kind: Kind
    /// A message naming the field or id at fault.
    public var message: String

    /// An error of `kind`.
    public init(_ kind: Kind, _ message: String) {
        self.kind = kind
        self.message = message
    }

    /// The message.
    public var description: String { message }
}

/// The labelling database: one SQLite file in WAL mode with `synchronous = FULL`, so an acknowledged write survives a crash.
///
/// Every method is one transaction. The store is `Sendable`; GRDB's pool serialises writers and lets readers run alongside.
public final class LabelStore: Sendable {
    /// The GRDB pool over the file.
    public let pool: DatabasePool
    /// The file's path.
    public let path: String

    /// Opens (creating if needed) the database at `path` and brings its schema up to date.
    public init(path: String) throws {
        var config = Configuration()
        config.foreignKeysEnabled = true
        config.busyMode = .timeout(10)
        config.prepareDatabase { db in
            try db.execute(sql: "PRAGMA synchronous = FULL")
        }
        self.path = path
        pool = try DatabasePool(path: path, configuration: config)
        try Schema.migrator.migrate(pool)
    }

    /// Seconds since 1970, as stored in every `*_at` column.
    static func now() -> Double { Date().timeIntervalSince1970 }

    /// The journal mode and synchronous level the connections use (for tests and `serve`'s start-up line).
    public func durability() throws -> (journal: String, synchronous: Int) {
        try pool.read { db in
            (try String.fetchOne(db, sql: "PRAGMA journal_mode") ?? "?", try Int.fetchOne(db, sql: "PRAGMA synchronous") ?? -1)
        }
    }
}

/// A labelling project: a set of items and how they are assigned.
public struct Project: Sendable, Equatable, Codable {
    /// Row id.
    public var id: Int64
    /// Unique name.
    public var name: String
    /// How many annotators see each (non-gold) pair.
    public var annotatorsPerPair: Int
    /// Share of each annotator's labels that are repeats of pairs they labelled before (self-consistency).
    public var repeatShare: Double
}

extension LabelStore {
    /// The project named `name`, or nil.
    public func project(named name: String) throws -> Project? {
        try pool.read { db in try Self.project(db, name: name) }
    }

    /// The project with row id `id`, or nil.
    public func project(id: Int64) throws -> Project? {
        try pool.read { db in try Self.project(db, id: id) }
    }

    /// All projects, by name.
    public func projects() throws -> [Project] {
        try pool.read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM projects ORDER BY name").map(Self.project(row:))
        }
    }

    /// Creates a project, or returns the existing one of that name unchanged.
    @discardableResult
    public func createProject(_ name: String, annotatorsPerPair: Int = 3, repeatShare: Double = 0.1) throws -> Project {
        try Self.validateName(name, field: "project")
        guard annotatorsPerPair >= 1 else { throw LabelError(.invalid, "annotators per pair: expected 1 or more, got \(annotatorsPerPair)") }
        guard repeatShare >= 0 && repeatShare < 1 else { throw LabelError(.invalid, "repeat share: expected 0 <= share < 1, got \(repeatShare)") }
        return try pool.write { db in try Self.createProject(db, name, annotatorsPerPair: annotatorsPerPair, repeatShare: repeatShare) }
    }

    static func createProject(_ db: Database, _ name: String, annotatorsPerPair: Int = 3, repeatShare: Double = 0.1) throws -> Project {
        if let p = try project(db, name: name) { return p }
        try db.execute(sql: "INSERT INTO projects (name, annotators_per_pair, repeat_share, created_at) VALUES (?, ?, ?, ?)",
                       arguments: [name, annotatorsPerPair, repeatShare, now()])
        return Project(id: db.lastInsertedRowID, name: name, annotatorsPerPair: annotatorsPerPair, repeatShare: repeatShare)
    }

    static func project(_ db: Database, name: String) throws -> Project? {
        try Row.fetchOne(db, sql: "SELECT * FROM projects WHERE name = ?", arguments: [name]).map(project(row:))
    }

    static func project(_ db: Database, id: Int64) throws -> Project? {
        try Row.fetchOne(db, sql: "SELECT * FROM projects WHERE id = ?", arguments: [id]).map(project(row:))
    }

    static func project(row: Row) -> Project {
        Project(id: row["id"], name: row["name"], annotatorsPerPair: row["annotators_per_pair"], repeatShare: row["repeat_share"])
    }

    /// Names are 1–64 printable characters without spaces at either end.
    static func validateName(_ name: String, field: String) throws {
        guard !name.isEmpty, name.count <= 64, name.trimmingCharacters(in: .whitespaces) == name,
              name.unicodeScalars.allSatisfy({ !CharacterSet.controlCharacters.contains($0) }) else {
            throw LabelError(.invalid, "\(field) name: expected 1 to 64 printable characters without leading or trailing spaces, got \"\(name.prefix(80))\"")
        }
    }
}
