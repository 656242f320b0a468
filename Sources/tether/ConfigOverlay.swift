import Foundation
import TetherAlign
import Yams

extension ConfigFile {
    /// `defaults` with the keys of the YAML file at `path` written over them, at any depth: a nested mapping changes
    /// only the keys it names (`sft: {weight_decay: 0.5}` keeps the stage's other settings), anything else replaces the
    /// value whole. A key the config does not have, or a value of the wrong type, is an error naming the file, line
    /// and dotted key path.
    static func overlay<C: Codable>(_ defaults: C, from path: String) throws -> C {
        let text: String
        do { text = try String(contentsOfFile: path, encoding: .utf8) } catch {
            throw ConfigFileError(file: path, message: "cannot read the file (\(error.localizedDescription))")
        }
        let node: Node?
        let user: Any?
        do {
            node = try Yams.compose(yaml: text)
            user = try Yams.load(yaml: text)
        } catch let error as YamlError {
            throw ConfigFileError(file: path, line: line(of: error), message: "not valid YAML: \(error)")
        }
        guard let user else { return defaults }
        guard let mapping = user as? [String: Any] else {
            throw ConfigFileError(file: path, line: node?.mark?.line, message: "expected a mapping of config keys (e.g. seed: 1)")
        }
        func fail(_ keyPath: [String], _ message: String) -> ConfigFileError {
            ConfigFileError(file: path, line: Self.line(of: keyPath, in: node), field: keyPath.joined(separator: "."),
                            message: message)
        }
        let base = try JSONSerialization.jsonObject(with: JSONEncoder().encode(defaults))
        let merged = merge(mapping, over: base)
        let config: C
        do {
            config = try JSONDecoder().decode(C.self, from: JSONSerialization.data(withJSONObject: merged))
        } catch let error as DecodingError {
            let (keyPath, why) = explainNested(error)
            throw fail(keyPath, why)
        } catch let TrainingError.badConfig(field, why) {
            throw fail(firstPath(to: field, in: mapping) ?? [field], why)
        }
        // A key of the file that does not come back when the config is written again is not one of its keys.
        let written = try JSONSerialization.jsonObject(with: JSONEncoder().encode(config))
        if let unknown = firstUnknown(mapping, in: written, or: base) {
            throw fail(unknown, "unknown key; known keys here: \(knownKeys(at: unknown.dropLast(), in: written).joined(separator: ", "))")
        }
        return config
    }

    /// `user` written over `base`: mappings merge key by key, everything else replaces.
    static func merge(_ user: Any, over base: Any) -> Any {
        guard let u = user as? [String: Any], var b = base as? [String: Any] else { return user }
        for (k, v) in u { b[k] = b[k].map { merge(v, over: $0) } ?? v }
        return b
    }

    /// The key path of the first key in `user` that neither `written` nor `base` has (sorted order, depth first).
    static func firstUnknown(_ user: Any, in written: Any?, or base: Any?, at path: [String] = []) -> [String]? {
        let keys: [String]
        if let u = user as? [String: Any] { keys = u.keys.sorted() } else if let u = user as? [Any] { keys = u.indices.map(String.init) } else { return nil }
        for k in keys {
            let w = child(written, k), b = child(base, k)
            guard user is [Any] || w != nil || b != nil else { return path + [k] }
            if let found = firstUnknown(child(user, k)!, in: w, or: b, at: path + [k]) { return found }
        }
        return nil
    }

    /// The first key path in `user` (sorted order, depth first) that ends in `key`.
    static func firstPath(to key: String, in user: Any, at path: [String] = []) -> [String]? {
        guard let u = user as? [String: Any] else { return nil }
        for k in u.keys.sorted() {
            if k == key { return path + [k] }
            if let found = firstPath(to: key, in: u[k]!, at: path + [k]) { return found }
        }
        return nil
    }

    /// The value under `key` of a mapping, or at index `key` of an array.
    static func child(_ object: Any?, _ key: String) -> Any? {
        if let d = object as? [String: Any] { return d[key] }
        if let a = object as? [Any], let i = Int(key), a.indices.contains(i) { return a[i] }
        return nil
    }

    /// The keys of the mapping at `path` in `object`, sorted.
    static func knownKeys<P: Collection<String>>(at path: P, in object: Any) -> [String] {
        let mapping = path.reduce(Optional(object)) { child($0, $1) } as? [String: Any]
        return mapping?.keys.sorted() ?? []
    }

    /// The dotted key path a decoding error is about and what was expected.
    static func explainNested(_ error: DecodingError) -> (keyPath: [String], why: String) {
        let (_, why) = explain(error)
        let path: [CodingKey]
        switch error {
        case .typeMismatch(_, let ctx), .valueNotFound(_, let ctx), .dataCorrupted(let ctx): path = ctx.codingPath
        case .keyNotFound(let k, let ctx): path = ctx.codingPath + [k]
        @unknown default: path = []
        }
        return (path.map { $0.intValue.map(String.init) ?? $0.stringValue }, why)
    }

    /// The 1-based line of the key at `keyPath` (array indices as numbers) in a composed YAML document.
    static func line(of keyPath: [String], in node: Node?) -> Int? {
        var current = node
        var line = node?.mark?.line
        for k in keyPath {
            if let mapping = current?.mapping, let pair = mapping.first(where: { $0.key.string == k }) {
                line = pair.key.mark?.line ?? line
                current = pair.value
            } else if let seq = current?.sequence, let i = Int(k), i < seq.count {
                current = seq[i]
                line = current?.mark?.line ?? line
            } else {
                break
            }
        }
        return line
    }
}
