import GRDB

/// The database schema, as numbered migrations kept in code; a database opened by a newer build is migrated in place.
///
/// Never edit a shipped migration: add the next one. Tables:
/// - `users`, `sessions`, `login_failures`: accounts, cookie sessions (token and CSRF secret), rate limiting.
/// - `projects`, `items`, `candidates`, `pairs`: what is labelled. An item is one prompt with two or more
///   candidates; a pair is two of its candidates (stored with the lower candidate id first).
/// - `assignments`: a pair shown to one annotator, with the side each candidate was shown on.
/// - `labels`: an annotator's answer to an assignment. Undo retracts a label (sets `retracted_at`); rows are never deleted.
///
/// v2 adds `pairs.filled` (see `PairFill`), indexed with the project, and `projects.open_pairs`, so that neither the
/// next-pair choice nor its "remaining" count scans every pair; it indexes labels by annotator, and the expiry times
/// that `purgeExpired` deletes by.
enum Schema {
    /// The first migration's identifier (tests build a v1 database with it).
    static let v1 = "v1: users, projects, items, pairs, assignments, labels"
    /// The second migration's identifier.
    static let v2 = "v2: per-pair fill counts, open pairs per project, labels by user, expiry indexes"

    static var migrator: DatabaseMigrator {
        var m = DatabaseMigrator()
        m.registerMigration(v1) { db in
            try db.execute(sql: """
            CREATE TABLE users (
                id INTEGER PRIMARY KEY AUTOINCREMENT,
                name TEXT NOT NULL UNIQUE,
                role TEXT NOT NULL CHECK (role IN ('admin', 'annotator')),
                password_hash TEXT NOT NULL,
                created_at REAL NOT NULL);
            CREATE TABLE sessions (
                token_hash TEXT PRIMARY KEY,
                user_id INTEGER NOT NULL REFERENCES users(id),
                csrf TEXT NOT NULL,
                created_at REAL NOT NULL,
                expires_at REAL NOT NULL,
                ended_at REAL);
            CREATE TABLE login_failures (
                id INTEGER PRIMARY KEY AUTOINCREMENT,
                key TEXT NOT NULL,
                at REAL NOT NULL);
            CREATE INDEX login_failures_key ON login_failures(key, at);
            CREATE TABLE projects (
                id INTEGER PRIMARY KEY AUTOINCREMENT,
                name TEXT NOT NULL UNIQUE,
                annotators_per_pair INTEGER NOT NULL DEFAULT 3 CHECK (annotators_per_pair >= 1),
                repeat_share REAL NOT NULL DEFAULT 0.1 CHECK (repeat_share >= 0 AND repeat_share < 1),
                created_at REAL NOT NULL);
            CREATE TABLE items (
                id INTEGER PRIMARY KEY AUTOINCREMENT,
                project_id INTEGER NOT NULL REFERENCES projects(id),
                content_hash TEXT NOT NULL,
                prompt_json TEXT NOT NULL,
                gold INTEGER,
                source_file TEXT NOT NULL,
                source_line INTEGER NOT NULL,
                created_at REAL NOT NULL,
                UNIQUE (project_id, content_hash));
            CREATE TABLE candidates (
                id INTEGER PRIMARY KEY AUTOINCREMENT,
                item_id INTEGER NOT NULL REFERENCES items(id),
                position INTEGER NOT NULL,
                completion_json TEXT NOT NULL,
                source TEXT,
                UNIQUE (item_id, position));
            CREATE TABLE pairs (
                id INTEGER PRIMARY KEY AUTOINCREMENT,
                item_id INTEGER NOT NULL REFERENCES items(id),
                project_id INTEGER NOT NULL REFERENCES projects(id),
                first_id INTEGER NOT NULL REFERENCES candidates(id),
                second_id INTEGER NOT NULL REFERENCES candidates(id),
                gold_winner INTEGER REFERENCES candidates(id),
                CHECK (first_id < second_id),
                UNIQUE (item_id, first_id, second_id));
            CREATE INDEX pairs_project ON pairs(project_id);
            CREATE TABLE assignments (
                id INTEGER PRIMARY KEY AUTOINCREMENT,
                pair_id INTEGER NOT NULL REFERENCES pairs(id),
                user_id INTEGER NOT NULL REFERENCES users(id),
                left_id INTEGER NOT NULL REFERENCES candidates(id),
                right_id INTEGER NOT NULL REFERENCES candidates(id),
                is_repeat INTEGER NOT NULL DEFAULT 0,
                created_at REAL NOT NULL,
                UNIQUE (pair_id, user_id, is_repeat));
            CREATE INDEX assignments_user ON assignments(user_id);
            CREATE TABLE labels (
                id INTEGER PRIMARY KEY AUTOINCREMENT,
                assignment_id INTEGER NOT NULL REFERENCES assignments(id),
                user_id INTEGER NOT NULL REFERENCES users(id),
                pair_id INTEGER NOT NULL REFERENCES pairs(id),
                choice TEXT NOT NULL CHECK (choice IN ('a', 'b', 'tie', 'both_bad', 'skip')),
                winner_id INTEGER REFERENCES candidates(id),
                strength INTEGER CHECK (strength BETWEEN 1 AND 3),
                reason TEXT,
                seconds REAL NOT NULL,
                created_at REAL NOT NULL,
                retracted_at REAL);
            CREATE UNIQUE INDEX labels_live ON labels(assignment_id) WHERE retracted_at IS NULL;
            CREATE INDEX labels_pair ON labels(pair_id);
            """)
        }
        m.registerMigration(v2) { db in
            // filled: the pair's original (non-repeat) assignments, less those answered by a live skip.
            // open_pairs: the project's pairs that still want annotators (gold ones, and the others below K).
            try db.execute(sql: """
            ALTER TABLE pairs ADD COLUMN filled INTEGER NOT NULL DEFAULT 0;
            UPDATE pairs SET filled = (
                SELECT COUNT(*) FROM assignments a WHERE a.pair_id = pairs.id AND a.is_repeat = 0
                  AND NOT EXISTS (SELECT 1 FROM labels l WHERE l.assignment_id = a.id AND l.retracted_at IS NULL AND l.choice = 'skip'));
            CREATE INDEX pairs_fill ON pairs(project_id, filled, id);
            CREATE INDEX pairs_gold_fill ON pairs(project_id, filled) WHERE gold_winner IS NOT NULL;
            ALTER TABLE projects ADD COLUMN open_pairs INTEGER NOT NULL DEFAULT 0;
            UPDATE projects SET open_pairs = (SELECT COUNT(*) FROM pairs p WHERE p.project_id = projects.id
                AND (p.gold_winner IS NOT NULL OR p.filled < projects.annotators_per_pair));
            CREATE INDEX labels_user ON labels(user_id);
            UPDATE sessions SET expires_at = MIN(expires_at, ended_at) WHERE ended_at IS NOT NULL;
            CREATE INDEX sessions_expiry ON sessions(expires_at);
            CREATE INDEX login_failures_at ON login_failures(at);
            """)
        }
        return m
    }
}
