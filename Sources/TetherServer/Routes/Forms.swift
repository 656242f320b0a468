import Foundation
import Hummingbird
import TetherAlign

/// Request parsing shared by the pages and the API; every failure is a 4xx naming the field.
enum Forms {
    /// Decodes an `application/x-www-form-urlencoded` body (at most the context's upload size).
    static func decode<T: Decodable>(_: T.Type, _ request: Request, context: LabelContext) async throws -> T {
        let body = try await request.body.collect(upTo: context.maxUploadSize)
        guard let text = body.getString(at: body.readerIndex, length: body.readableBytes) else {
            throw LabelError(.invalid, "body: not UTF-8")
        }
        do { return try URLEncodedFormDecoder().decode(T.self, from: text) } catch let e as DecodingError {
            throw LabelError(.invalid, ErrorMiddleware.describe(e))
        } catch {
            throw LabelError(.invalid, "body: not a valid form (\(error))")
        }
    }

    /// Decodes a JSON body (at most the context's upload size).
    static func json<T: Decodable>(_: T.Type, _ request: Request, context: LabelContext) async throws -> T {
        let body = try await request.body.collect(upTo: context.maxUploadSize)
        do { return try JSONDecoder().decode(T.self, from: Data(buffer: body)) } catch let e as DecodingError {
            throw LabelError(.invalid, ErrorMiddleware.describe(e))
        }
    }

    /// The project the `:project` path parameter names (its row id, or its name), or 404.
    static func project(_ context: LabelContext, store: LabelStore) async throws -> Project {
        let raw = context.parameters.get("project") ?? ""
        let found = try await blocking { try Int64(raw).flatMap { try store.project(id: $0) } ?? store.project(named: raw) }
        guard let found else { throw LabelError(.notFound, "no project \(raw.prefix(64))") }
        return found
    }

    /// A form's id field: a whole number (an unknown one is the store's 404, not a 400).
    static func id(_ raw: String, field: String) throws -> Int64 {
        guard let n = Int64(raw) else {
            throw LabelError(.invalid, "field \"\(field)\": expected an id (a whole number), got \"\(raw.prefix(20))\"")
        }
        return n
    }

    /// A form's choice field: a, b, tie, both_bad or skip.
    static func choice(_ raw: String) throws -> Choice {
        guard let c = Choice(rawValue: raw) else {
            throw LabelError(.invalid, "field \"choice\": expected \(Choice.allCases.map(\.rawValue).joined(separator: ", ")), got \"\(raw.prefix(20))\"")
        }
        return c
    }

    /// A form's strength field: empty for none, else 1, 2 or 3.
    static func strength(_ raw: String?) throws -> Strength? {
        guard let raw, !raw.isEmpty else { return nil }
        guard let n = Int(raw), let s = Strength(rawValue: n) else {
            throw LabelError(.invalid, "field \"strength\": expected 1 (slightly), 2 (clearly) or 3 (much better), got \(raw.prefix(20))")
        }
        return s
    }
}

/// Export downloads (`preference.jsonl`, `kto.jsonl`), with options from the query string.
enum Exports {
    static func response(_ request: Request, project: Project, file: String, store: LabelStore) async throws -> Response {
        let q = request.uri.queryParameters
        var options = ExportOptions()
        if let a = q["aggregate"] {
            guard let m = AggregateMethod(rawValue: String(a)) else { throw LabelError(.invalid, "aggregate: expected majority or bradley-terry") }
            options.aggregate = m
        }
        if let x = q["min_agreement"] {
            guard let v = Double(String(x)), (0...1).contains(v) else { throw LabelError(.invalid, "min_agreement: expected 0 to 1") }
            options.minAgreement = v
        }
        if let x = q["both_bad"] {
            guard let v = ExportOptions.BothBad(rawValue: String(x)) else { throw LabelError(.invalid, "both_bad: expected undesirable or drop") }
            options.bothBad = v
        }
        if let x = q["ties"] {
            guard let v = ExportOptions.Ties(rawValue: String(x)) else { throw LabelError(.invalid, "ties: expected drop or desirable") }
            options.ties = v
        }
        guard file == "preference.jsonl" || file == "kto.jsonl" else {
            throw LabelError(.notFound, "no export \(file.prefix(40)) (preference.jsonl or kto.jsonl)")
        }
        let o = options
        let data = try await blocking { try store.export(project: project.name, options: o) }
        let text = ExportedData.jsonLines(file == "kto.jsonl" ? data.unpaired : data.preference)
        var headers = HTTPFields()
        headers[.contentType] = "application/jsonl; charset=utf-8"
        headers[.contentDisposition] = "attachment; filename=\"\(file)\""
        return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(string: text)))
    }
}
