import Foundation
import Tether

/// Why a state dict could not be loaded into a module. Nothing is changed when it throws.
public struct StateDictError: Error, CustomStringConvertible, Equatable {
    /// A key whose tensor's shape differs from the parameter's.
    public struct Mismatch: Equatable, Sendable {
        /// The parameter name.
        public var key: String
        /// The module's parameter shape.
        public var expected: [Int]
        /// The shape in the state dict.
        public var found: [Int]

        /// A mismatch for `key`.
        public init(key: String, expected: [Int], found: [Int]) {
            self.key = key
            self.expected = expected
            self.found = found
        }
    }

    /// Parameters of the module that the state dict lacks (strict loading only).
    public var missingKeys: [String]
    /// Keys of the state dict the module has no parameter for (strict loading only).
    public var unexpectedKeys: [String]
    /// Keys present in both with different shapes.
    public var shapeMismatches: [Mismatch]
    /// The file the state dict came from, when it came from one.
    public var file: String?

    /// An error listing what did not fit.
    public init(missingKeys: [String] = [], unexpectedKeys: [String] = [],
                shapeMismatches: [Mismatch] = [], file: String? = nil) {
        self.missingKeys = missingKeys
        self.unexpectedKeys = unexpectedKeys
        self.shapeMismatches = shapeMismatches
        self.file = file
    }

    public var description: String {
        var parts: [String] = []
        if !missingKeys.isEmpty {
            parts.append("missing keys: " + missingKeys.map { "\"\($0)\"" }.joined(separator: ", "))
        }
        if !unexpectedKeys.isEmpty {
            parts.append("unexpected keys: " + unexpectedKeys.map { "\"\($0)\"" }.joined(separator: ", "))
        }
        for m in shapeMismatches {
            parts.append("shape mismatch for \"\(m.key)\": module has \(m.expected), state dict has \(m.found)")
        }
        let source = file.map { " from \($0)" } ?? ""
        return "cannot load state dict\(source): " + parts.joined(separator: "; ")
    }
}

extension Module {
    /// The parameters by name (each shared tensor once, under its first name). The tensors
    /// share storage with the parameters and carry no autograd history.
    public func stateDict() -> [String: Tensor] {
        var out: [String: Tensor] = [:]
        for (name, tensor) in namedParameters() { out[name] = tensor.detach() }
        return out
    }

    /// Copies values from `stateDict` into the parameters, in place.
    ///
    /// Shapes must match. With `strict`, every parameter must be present and every key must
    /// name a parameter; a tied parameter counts as present under any of its names. Without
    /// `strict`, missing and unexpected keys are ignored. Returns what was ignored.
    @discardableResult
    public func load(stateDict: [String: Tensor], strict: Bool = true) throws
        -> (missingKeys: [String], unexpectedKeys: [String]) {
        let all = allNamedParameters()
        let byName = Dictionary(all, uniquingKeysWith: { first, _ in first })
        var mismatches: [StateDictError.Mismatch] = []
        var assignments: [(Tensor, Tensor)] = []
        var covered = Set<ObjectIdentifier>()
        for (name, parameter) in all {
            guard let source = stateDict[name] else { continue }
            if source.shape != parameter.shape {
                mismatches.append(.init(key: name, expected: parameter.shape, found: source.shape))
            } else if covered.insert(ObjectIdentifier(parameter)).inserted {
                assignments.append((parameter, source))
            }
        }
        let missing = namedParameters().map(\.0).filter { name in
            !covered.contains(ObjectIdentifier(byName[name]!))
                && !mismatches.contains { $0.key == name }
        }
        let unexpected = stateDict.keys.filter { byName[$0] == nil }.sorted()
        if !mismatches.isEmpty || (strict && (!missing.isEmpty || !unexpected.isEmpty)) {
            throw StateDictError(missingKeys: strict ? missing : [],
                                 unexpectedKeys: strict ? unexpected : [],
                                 shapeMismatches: mismatches)
        }
        for (parameter, source) in assignments
            where !(source.storage === parameter.storage && source.offset == parameter.offset
                    && source.strides == parameter.strides) {
            parameter.storage.markModified()
            Strided.copy(source, into: parameter.data)
        }
        return (missing, unexpected)
    }
}

extension Module {
    /// Writes the state dict to a safetensors file (F32, written to a temporary file and
    /// renamed into place), with `{"format": "pt"}` metadata as Hugging Face writes it.
    public func save(to url: URL, metadata: [String: String] = [:]) throws {
        try SafeTensors.save(stateDict(), metadata: ["format": "pt"].merging(metadata) { $1 }, to: url)
    }

    /// Loads parameters from a safetensors file (any float dtype is converted to F32); see
    /// ``load(stateDict:strict:)``. Errors name the file.
    @discardableResult
    public func load(from url: URL, strict: Bool = true) throws
        -> (missingKeys: [String], unexpectedKeys: [String]) {
        let tensors = try SafeTensors.load(url)
        do {
            return try load(stateDict: tensors, strict: strict)
        } catch var error as StateDictError {
            error.file = url.path
            throw error
        }
    }
}
