import Foundation

/// One tensor's entry in a safetensors header.
public struct SafeTensorsInfo: Sendable, Equatable {
    /// The tensor's name.
    public let name: String
    /// The stored element type.
    public let dtype: SafeTensorsDType
    /// Size of each dimension.
    public let shape: [Int]
    /// Byte range within the data section (which starts after the header).
    public let dataOffsets: Range<Int>
}

/// A memory-mapped safetensors file whose tensors are read on demand.
///
/// The whole header is validated on opening, so `tensor(_:)` only fails for a missing name
/// or an unconvertible dtype. F32 tensors that are 4-byte aligned in the file are not
/// copied: their `Storage` borrows the mapping (private copy-on-write pages, so writing to
/// such a tensor never changes the file) and keeps it alive. A multi-GB checkpoint therefore
/// loads without a second copy. Replace the file by writing a new one and renaming it (as
/// `SafeTensors.save` does), never by truncating it in place while tensors from it live.
public struct SafeTensorsFile: Sendable {
    /// The file's location.
    public let url: URL
    /// The `__metadata__` map (empty if the file has none).
    public let metadata: [String: String]
    /// Every tensor's entry, by name.
    public let entries: [String: SafeTensorsInfo]
    /// The file's bytes, mapped (or read, where mapping is impossible).
    private let mapping: FileMapping
    /// Byte offset of the data section in the file: 8 + the header length.
    private let dataStart: Int

    /// Opens and validates the safetensors file at `url`.
    public init(url: URL) throws {
        self.url = url
        let path = url.path
        let mapping = try FileMapping(path: path)
        self.mapping = mapping
        let size = mapping.count
        guard size >= 8 else {
            throw SafeTensorsError(.truncated, file: path,
                                   "the file is \(size) bytes, shorter than the 8-byte header length")
        }
        let headerLength = UInt64(littleEndian: mapping.base.loadUnaligned(as: UInt64.self))
        guard headerLength <= UInt64(size - 8) else {
            throw SafeTensorsError(.truncated, file: path,
                                   "header length \(headerLength) runs past the end of the \(size)-byte file")
        }
        guard headerLength <= UInt64(SafeTensors.maxHeaderBytes) else {
            throw SafeTensorsError(.invalidHeader, file: path,
                                   "header length \(headerLength) exceeds the \(SafeTensors.maxHeaderBytes)-byte limit")
        }
        dataStart = 8 + Int(headerLength)
        let header: HeaderJSON
        do {
            header = try HeaderJSON.parse(UnsafeRawBufferPointer(start: mapping.base + 8, count: Int(headerLength)))
        } catch {
            throw SafeTensorsError(.invalidHeader, file: path,
                                   "invalid JSON header at byte \(8 + error.offset) of the file: \(error.reason)")
        }
        (metadata, entries) = try Self.validate(header, dataSize: size - dataStart, path: path)
    }

    /// Tensor names, sorted.
    public var names: [String] { entries.keys.sorted() }

    /// Whether the file has a tensor called `name`.
    public func contains(_ name: String) -> Bool { entries[name] != nil }

    /// The header entry of tensor `name`.
    public func info(_ name: String) throws -> SafeTensorsInfo {
        guard let info = entries[name] else {
            let some = names.prefix(5).map { "'\($0)'" }.joined(separator: ", ")
            let hint = entries.isEmpty ? "the file has no tensors" : "the file has \(entries.count) tensors: \(some)\(entries.count > 5 ? ", ..." : "")"
            throw SafeTensorsError(.missingTensor, file: url.path, tensor: name, "no such tensor (\(hint))")
        }
        return info
    }

    /// The shape of tensor `name`.
    public func shape(of name: String) throws -> [Int] { try info(name).shape }

    /// The stored dtype of tensor `name`.
    public func dtype(of name: String) throws -> SafeTensorsDType { try info(name).dtype }

    /// Tensor `name` as Float32, converted from any float, integer or boolean dtype (integers
    /// beyond 2^24 round). F32 data is borrowed from the mapping unless `copy` is true.
    public func tensor(_ name: String, copy: Bool = false) throws -> Tensor {
        let info = try info(name)
        let count = Shape.count(info.shape)
        let source = UnsafeRawPointer(mapping.base + dataStart + info.dataOffsets.lowerBound)
        #if _endian(little)
        if info.dtype == .f32 && !copy && count > 0 && Int(bitPattern: source) % 4 == 0 {
            let storage = Storage(borrowing: UnsafeMutablePointer(mutating: source.assumingMemoryBound(to: Float.self)),
                                  count: count, owner: mapping)
            return Tensor(storage: storage, shape: info.shape)
        }
        #endif
        let t = Tensor(uninitialized: info.shape)
        Self.convert(info.dtype, from: source, to: t.data, count: count)
        return t
    }

    /// Tensor `name` as Int32 indices; it must have an integer or boolean dtype and every
    /// value must fit in Int32.
    public func indexTensor(_ name: String) throws -> IndexTensor {
        let info = try info(name)
        guard info.dtype.isInteger else {
            throw SafeTensorsError(.unsupportedDtype, file: url.path, tensor: name,
                                   "dtype \(info.dtype.rawValue) is not an integer type, so it cannot be read as indices")
        }
        let count = Shape.count(info.shape)
        let p = UnsafeRawPointer(mapping.base + dataStart + info.dataOffsets.lowerBound)
        var values = [Int32](repeating: 0, count: count)
        for i in 0..<count {
            let v: Int64
            switch info.dtype {
            case .bool: v = p.load(fromByteOffset: i, as: UInt8.self) != 0 ? 1 : 0
            case .u8: v = Int64(p.load(fromByteOffset: i, as: UInt8.self))
            case .i8: v = Int64(p.load(fromByteOffset: i, as: Int8.self))
            case .i16: v = Int64(Int16(littleEndian: p.loadUnaligned(fromByteOffset: 2 * i, as: Int16.self)))
            case .u16: v = Int64(UInt16(littleEndian: p.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self)))
            case .i32: v = Int64(Int32(littleEndian: p.loadUnaligned(fromByteOffset: 4 * i, as: Int32.self)))
            case .u32: v = Int64(UInt32(littleEndian: p.loadUnaligned(fromByteOffset: 4 * i, as: UInt32.self)))
            case .i64: v = Int64(littleEndian: p.loadUnaligned(fromByteOffset: 8 * i, as: Int64.self))
            default:
                let u = UInt64(littleEndian: p.loadUnaligned(fromByteOffset: 8 * i, as: UInt64.self))
                v = u > UInt64(Int32.max) ? Int64.max : Int64(u)
            }
            guard let narrow = Int32(exactly: v) else {
                throw SafeTensorsError(.unsupportedDtype, file: url.path, tensor: name,
                                       "element \(i) does not fit in Int32 (dtype \(info.dtype.rawValue))")
            }
            values[i] = narrow
        }
        return IndexTensor(values, shape: info.shape)
    }

    /// Every tensor, by name, as Float32.
    public func tensors() throws -> [String: Tensor] {
        var out: [String: Tensor] = [:]
        for name in entries.keys { out[name] = try tensor(name) }
        return out
    }

    // MARK: - Validation

    /// Checks the header against the safetensors schema and the data section's size: every
    /// byte range in bounds, sized by shape and dtype, and the ranges tiling the data exactly
    /// (no overlap, gap or trailing bytes), as the reference reader requires.
    private static func validate(_ header: HeaderJSON, dataSize: Int, path: String) throws
        -> (metadata: [String: String], entries: [String: SafeTensorsInfo]) {
        guard case .object(let members) = header else {
            throw SafeTensorsError(.invalidHeader, file: path, "the header is \(header.kind), expected a JSON object")
        }
        var metadata: [String: String] = [:]
        var entries: [String: SafeTensorsInfo] = [:]
        for (name, value) in members {
            if name == "__metadata__" {
                guard case .object(let pairs) = value else {
                    throw SafeTensorsError(.invalidHeader, file: path,
                                           "__metadata__ is \(value.kind), expected an object of strings")
                }
                for (key, v) in pairs {
                    guard case .string(let s) = v else {
                        throw SafeTensorsError(.invalidHeader, file: path,
                                               "__metadata__ value for '\(key)' is \(v.kind), expected a string")
                    }
                    metadata[key] = s
                }
                continue
            }
            entries[name] = try entry(name, value, dataSize: dataSize, path: path)
        }

        var cursor = 0
        var previous: String?
        let ordered = entries.values.sorted {
            ($0.dataOffsets.lowerBound, $0.dataOffsets.upperBound) < ($1.dataOffsets.lowerBound, $1.dataOffsets.upperBound)
        }
        for e in ordered {
            let r = e.dataOffsets
            if r.lowerBound < cursor {
                throw SafeTensorsError(.invalidOffsets, file: path, tensor: e.name,
                                       "data_offsets [\(r.lowerBound), \(r.upperBound)] overlap tensor '\(previous ?? "")', which ends at \(cursor)")
            }
            if r.lowerBound > cursor {
                let after = previous.map { "tensor '\($0)'" } ?? "the header"
                throw SafeTensorsError(.invalidOffsets, file: path, tensor: e.name,
                                       "data_offsets [\(r.lowerBound), \(r.upperBound)] leave a gap of \(r.lowerBound - cursor) bytes after \(after)")
            }
            if !r.isEmpty || previous == nil { previous = e.name }
            cursor = r.upperBound
        }
        if cursor != dataSize {
            throw SafeTensorsError(.invalidOffsets, file: path, tensor: previous,
                                   "\(dataSize - cursor) bytes after the last tensor's data are not covered by any tensor")
        }
        return (metadata, entries)
    }

    /// One tensor entry: `{"dtype": ..., "shape": [...], "data_offsets": [begin, end]}`.
    private static func entry(_ name: String, _ value: HeaderJSON, dataSize: Int, path: String) throws -> SafeTensorsInfo {
        func bad(_ kind: SafeTensorsError.Kind, _ reason: String) -> SafeTensorsError {
            SafeTensorsError(kind, file: path, tensor: name, reason)
        }
        guard case .object(let fields) = value else { throw bad(.invalidHeader, "the entry is \(value.kind), expected an object") }
        func field(_ key: String) throws -> HeaderJSON {
            guard let v = fields.first(where: { $0.key == key })?.value else { throw bad(.invalidHeader, "the entry has no \"\(key)\"") }
            return v
        }
        guard case .string(let dtypeName) = try field("dtype") else { throw bad(.invalidHeader, "\"dtype\" is not a string") }
        guard let dtype = SafeTensorsDType(rawValue: dtypeName) else {
            throw bad(.unknownDtype, "unknown dtype '\(dtypeName)' (known: \(SafeTensorsDType.allCases.map(\.rawValue).joined(separator: ", ")))")
        }
        let shapeValue = try field("shape")
        guard case .array(let dims) = shapeValue, case let shape = dims.compactMap(\.nonNegativeInt),
              shape.count == dims.count else {
            throw bad(.invalidHeader, "\"shape\" must be an array of non-negative integers")
        }
        guard case .array(let offsets) = try field("data_offsets"), offsets.count == 2,
              let begin = offsets[0].nonNegativeInt, let end = offsets[1].nonNegativeInt else {
            throw bad(.invalidHeader, "\"data_offsets\" must be two non-negative integers [begin, end]")
        }
        var bytes = dtype.byteSize
        for d in shape {
            let (product, overflow) = bytes.multipliedReportingOverflow(by: d)
            guard !overflow else { throw bad(.invalidOffsets, "shape \(shape) is too large") }
            bytes = product
        }
        guard begin <= end else {
            throw bad(.invalidOffsets, "data_offsets [\(begin), \(end)] end before they begin")
        }
        guard end <= dataSize else {
            throw bad(.invalidOffsets,
                      "data_offsets [\(begin), \(end)] run past the \(dataSize)-byte data section (is the file truncated?)")
        }
        guard end - begin == bytes else {
            throw bad(.invalidOffsets,
                      "data_offsets [\(begin), \(end)] span \(end - begin) bytes, but shape \(shape) of \(dtype.rawValue) needs \(bytes)")
        }
        return SafeTensorsInfo(name: name, dtype: dtype, shape: shape, dataOffsets: begin..<end)
    }
}

/// A read-only view of a whole file: a private, copy-on-write memory map, or a heap copy
/// where the file cannot be mapped. Owner of borrowed tensor storage.
final class FileMapping: @unchecked Sendable {
    let base: UnsafeMutableRawPointer
    let count: Int
    private let isMapped: Bool

    init(path: String) throws {
        // O_NONBLOCK: opening a FIFO by mistake must not hang (it is then rejected below).
        let fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK)
        guard fd >= 0 else { throw SafeTensorsError(.io, file: path, "cannot open: \(errnoText())") }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0 else { throw SafeTensorsError(.io, file: path, "cannot stat: \(errnoText())") }
        guard st.st_mode & S_IFMT == S_IFREG else { throw SafeTensorsError(.io, file: path, "not a regular file") }
        let size = Int(st.st_size)
        if size > 0, let p = mmap(nil, size, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0), p != MAP_FAILED {
            (base, count, isMapped) = (p, size, true)
            return
        }
        let buffer = UnsafeMutableRawPointer.allocate(byteCount: max(size, 1), alignment: 64)
        var done = 0
        while done < size {
            let n = pread(fd, buffer + done, size - done, off_t(done))
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else {
                let why = n < 0 ? errnoText() : "the file shrank while being read"
                buffer.deallocate()
                throw SafeTensorsError(.io, file: path, "read failed: \(why)")
            }
            done += n
        }
        (base, count, isMapped) = (buffer, size, false)
    }

    deinit {
        if isMapped { munmap(base, count) } else { base.deallocate() }
    }
}
