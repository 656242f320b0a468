import Foundation

/// A problem with a safetensors file; the message names the file, the tensor (when one is
/// involved) and what is wrong.
public struct SafeTensorsError: Error, CustomStringConvertible, Sendable {
    /// What went wrong, for code that handles errors by kind.
    public enum Kind: Sendable, Equatable {
        /// The file could not be opened, read, written or renamed.
        case io
        /// The file is shorter than its 8-byte length prefix or its header says it should be.
        case truncated
        /// The header is not valid JSON or not the safetensors schema.
        case invalidHeader
        /// A tensor's byte range is outside the data, overlaps another, leaves a gap, or
        /// does not match its shape and dtype.
        case invalidOffsets
        /// A dtype name that safetensors does not define.
        case unknownDtype
        /// A dtype this call cannot convert (for example a float tensor asked for as indices).
        case unsupportedDtype
        /// No tensor of the requested name.
        case missingTensor
        /// Arguments that cannot be saved (a tensor named `__metadata__`).
        case invalidArgument
    }

    /// The kind of problem.
    public let kind: Kind
    /// The path of the file.
    public let file: String
    /// The tensor concerned, if any.
    public let tensor: String?
    /// What is wrong.
    public let reason: String

    /// An error about `file` (and `tensor`, if given).
    public init(_ kind: Kind, file: String, tensor: String? = nil, _ reason: String) {
        self.kind = kind
        self.file = file
        self.tensor = tensor
        self.reason = reason
    }

    /// `safetensors file '<path>', tensor '<name>': <reason>`.
    public var description: String {
        var s = "safetensors file '\(file)'"
        if let tensor { s += ", tensor '\(tensor)'" }
        return s + ": " + reason
    }
}

/// The element types a safetensors header can name (the reference `Dtype` spellings).
public enum SafeTensorsDType: String, Sendable, CaseIterable {
    case bool = "BOOL", u8 = "U8", i8 = "I8", f8e5m2 = "F8_E5M2", f8e4m3 = "F8_E4M3"
    case i16 = "I16", u16 = "U16", f16 = "F16", bf16 = "BF16"
    case i32 = "I32", u32 = "U32", f32 = "F32", f64 = "F64", i64 = "I64", u64 = "U64"

    /// Bytes per element.
    public var byteSize: Int {
        switch self {
        case .bool, .u8, .i8, .f8e5m2, .f8e4m3: 1
        case .i16, .u16, .f16, .bf16: 2
        case .i32, .u32, .f32: 4
        case .f64, .i64, .u64: 8
        }
    }

    /// Whether elements are integers (or booleans).
    public var isInteger: Bool {
        switch self {
        case .bool, .u8, .i8, .i16, .u16, .i32, .u32, .i64, .u64: true
        default: false
        }
    }
}

/// Reading and writing Hugging Face safetensors files.
///
/// Layout: an 8-byte little-endian header length `N`, `N` bytes of JSON mapping each tensor
/// name to `{"dtype", "shape", "data_offsets": [begin, end]}` (offsets relative to the data
/// after the header) plus an optional `"__metadata__"` string map, then the tensor bytes.
public enum SafeTensors {
    /// Largest header accepted when reading (the reference implementation's limit).
    public static let maxHeaderBytes = 100_000_000

    /// Writes `tensors` as F32 (keys sorted, header space-padded to 8 bytes) to a temporary
    /// file beside `url`, then renames it over `url`: a crash never leaves a partial file.
    public static func save(_ tensors: [String: Tensor], metadata: [String: String] = [:],
                            to url: URL) throws {
        let path = url.path
        if tensors["__metadata__"] != nil {
            throw SafeTensorsError(.invalidArgument, file: path, tensor: "__metadata__",
                                   "the name '__metadata__' is reserved for the metadata map")
        }
        let names = tensors.keys.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
        let header = headerBytes(names: names, tensors: tensors, metadata: metadata)

        let directory = url.deletingLastPathComponent().path
        let temporary = directory + "/." + url.lastPathComponent + ".tmp-\(getpid())-"
            + String(UInt32.random(in: 0...UInt32.max), radix: 16)
        let fd = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        guard fd >= 0 else {
            throw SafeTensorsError(.io, file: path, "cannot create temporary file '\(temporary)': \(errnoText())")
        }
        var closed = false
        do {
            var length = UInt64(header.count).littleEndian
            try withUnsafeBytes(of: &length) { try writeAll(fd, $0, path: path, tensor: nil) }
            try header.withUnsafeBytes { try writeAll(fd, $0, path: path, tensor: nil) }
            for name in names {
                try writeF32(fd, tensors[name]!.contiguousData(), path: path, tensor: name)
            }
            guard fsync(fd) == 0 else {
                throw SafeTensorsError(.io, file: path, "fsync of '\(temporary)' failed: \(errnoText())")
            }
            closed = true
            guard close(fd) == 0 else {
                throw SafeTensorsError(.io, file: path, "closing '\(temporary)' failed: \(errnoText())")
            }
            guard rename(temporary, path) == 0 else {
                throw SafeTensorsError(.io, file: path, "renaming '\(temporary)' into place failed: \(errnoText())")
            }
        } catch {
            if !closed { close(fd) }
            unlink(temporary)
            throw error
        }
        // Make the rename itself durable; a failure here does not undo the write.
        let dirFD = open(directory.isEmpty ? "." : directory, O_RDONLY | O_CLOEXEC)
        if dirFD >= 0 {
            fsync(dirFD)
            close(dirFD)
        }
    }

    /// Every tensor in the file at `url`, converted to Float32.
    public static func load(_ url: URL) throws -> [String: Tensor] {
        try SafeTensorsFile(url: url).tensors()
    }

    /// The header JSON for F32 `tensors` stored in `names` order, padded with spaces to a
    /// multiple of 8 bytes, as the reference writer lays it out.
    static func headerBytes(names: [String], tensors: [String: Tensor],
                            metadata: [String: String]) -> [UInt8] {
        var entries: [String] = []
        if !metadata.isEmpty {
            let keys = metadata.keys.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
            let pairs = keys.map { JSONText.quoted($0) + ":" + JSONText.quoted(metadata[$0]!) }
            entries.append("\"__metadata__\":{" + pairs.joined(separator: ",") + "}")
        }
        var offset = 0
        for name in names {
            let t = tensors[name]!
            let end = offset + t.count * 4
            let shape = t.shape.map(String.init).joined(separator: ",")
            entries.append(JSONText.quoted(name)
                + ":{\"dtype\":\"F32\",\"shape\":[\(shape)],\"data_offsets\":[\(offset),\(end)]}")
            offset = end
        }
        var bytes = Array(("{" + entries.joined(separator: ",") + "}").utf8)
        bytes += [UInt8](repeating: UInt8(ascii: " "), count: (8 - bytes.count % 8) % 8)
        return bytes
    }

    /// Writes the elements of contiguous `t` as little-endian F32.
    private static func writeF32(_ fd: Int32, _ t: Tensor, path: String, tensor: String) throws {
        let count = t.count
        guard count > 0 else { return }
        #if _endian(little)
        try writeAll(fd, UnsafeRawBufferPointer(start: t.data, count: count * 4), path: path, tensor: tensor)
        #else
        var chunk = [UInt32](repeating: 0, count: min(count, 1 << 16))
        var start = 0
        while start < count {
            let n = min(chunk.count, count - start)
            for i in 0..<n { chunk[i] = t.data[start + i].bitPattern.littleEndian }
            try chunk.withUnsafeBytes { try writeAll(fd, UnsafeRawBufferPointer(rebasing: $0[0..<(n * 4)]), path: path, tensor: tensor) }
            start += n
        }
        #endif
    }

    /// Writes all of `bytes`, retrying short writes and interruptions.
    private static func writeAll(_ fd: Int32, _ bytes: UnsafeRawBufferPointer, path: String,
                                 tensor: String?) throws {
        guard var p = bytes.baseAddress else { return }
        var left = bytes.count
        while left > 0 {
            let n = write(fd, p, min(left, 1 << 30))
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else {
                let why = n < 0 ? errnoText() : "no bytes written"
                throw SafeTensorsError(.io, file: path, tensor: tensor, "write failed: \(why)")
            }
            p += n
            left -= n
        }
    }
}

/// The text of the current `errno`.
func errnoText() -> String { String(cString: strerror(errno)) }
