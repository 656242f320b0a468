import Tether

/// A layer or model: a tree of named child modules and parameters.
///
/// Parameter names are the state-dict keys, in Hugging Face / PyTorch style: a child's
/// name, a dot, and its own names (`"h.0.attn.c_attn.weight"`). By default a module finds
/// its parameters and children by reflection over its stored properties, in declaration
/// order (superclass first):
///
/// - a `Tensor` (or non-nil `Tensor?`) property is a parameter named after the property;
/// - a `Module` (or non-nil `Module?`) property is a child named after the property;
/// - a `[Module]` property named `h` holds children `h.0`, `h.1`, ...; a `[Tensor]`
///   property holds parameters the same way;
/// - `@Key("ln_1") var ln1: LayerNorm` gives a property a different name;
/// - `@Ignored var mask: Tensor` keeps a tensor out of parameters and state dicts.
///
/// Containers whose children are not stored properties (``Sequential``, ``ModuleList``)
/// override ``namedChildren()``. A parameter shared by two modules (tied embeddings) is
/// listed once, under the first name the walk reaches.
open class Module {
    /// Whether the module is in training mode (dropout active); see ``train(_:)``.
    public internal(set) var isTraining = true

    /// An empty module in training mode.
    public init() {}

    // MARK: - Structure (override points)

    /// The direct children with their names, in a stable order.
    open func namedChildren() -> [(String, Module)] {
        reflectedMembers().children
    }

    /// The parameters this module holds itself (not its children's), with their names.
    open func namedDirectParameters() -> [(String, Tensor)] {
        reflectedMembers().parameters
    }

    // MARK: - Walking the tree

    /// Every parameter in the tree with its full dotted name, each tensor once, in a
    /// stable order (a module's own parameters first, then each child's in turn).
    public func namedParameters() -> [(String, Tensor)] {
        var seen = Set<ObjectIdentifier>()
        var out: [(String, Tensor)] = []
        walkParameters(prefix: "") { name, tensor in
            if seen.insert(ObjectIdentifier(tensor)).inserted { out.append((name, tensor)) }
        }
        return out
    }

    /// Every name under which a parameter is reachable, aliases of shared tensors included.
    public func allNamedParameters() -> [(String, Tensor)] {
        var out: [(String, Tensor)] = []
        walkParameters(prefix: "") { out.append(($0, $1)) }
        return out
    }

    /// Every parameter in the tree, each tensor once.
    public func parameters() -> [Tensor] {
        namedParameters().map(\.1)
    }

    /// The parameters that require grad (those an optimizer should update), with names.
    public var trainableNamedParameters: [(String, Tensor)] {
        namedParameters().filter { $0.1.requiresGrad }
    }

    /// The parameters that require grad.
    public var trainableParameters: [Tensor] {
        trainableNamedParameters.map(\.1)
    }

    /// Total number of parameter elements (shared tensors counted once).
    public var parameterCount: Int {
        parameters().reduce(0) { $0 + $1.count }
    }

    /// Number of elements in parameters that require grad.
    public var trainableParameterCount: Int {
        trainableParameters.reduce(0) { $0 + $1.count }
    }

    /// Every module in the tree with its dotted name (`""` for this one), parents first.
    public func namedModules() -> [(String, Module)] {
        var out: [(String, Module)] = []
        var seen = Set<ObjectIdentifier>()
        walkModules(prefix: "") { name, module in
            if seen.insert(ObjectIdentifier(module)).inserted { out.append((name, module)) }
        }
        return out
    }

    /// The module at a dotted path such as `"h.0.attn"`, or nil.
    public func module(at path: String) -> Module? {
        if path.isEmpty { return self }
        var current: Module = self
        for part in path.split(separator: ".", omittingEmptySubsequences: false) {
            guard let next = current.namedChildren().first(where: { $0.0 == part })?.1 else { return nil }
            current = next
        }
        return current
    }

    private func walkParameters(prefix: String, _ body: (String, Tensor) -> Void) {
        for (name, tensor) in namedDirectParameters() { body(prefix + name, tensor) }
        for (name, child) in namedChildren() { child.walkParameters(prefix: prefix + name + ".", body) }
    }

    private func walkModules(prefix: String, _ body: (String, Module) -> Void) {
        body(prefix, self)
        let childPrefix = prefix.isEmpty ? "" : prefix + "."
        for (name, child) in namedChildren() { child.walkModules(prefix: childPrefix + name, body) }
    }

    // MARK: - Modes

    /// Sets training mode (`true`) or evaluation mode (`false`) on the whole tree.
    public func train(_ mode: Bool = true) {
        for (_, module) in namedModules() { module.isTraining = mode }
    }

    /// Switches the whole tree to evaluation mode (dropout becomes the identity).
    public func eval() { train(false) }

    /// Stops gradients for every parameter in the tree (`requiresGrad = false`).
    public func freeze() {
        for p in parameters() { p.requiresGrad = false }
    }

    /// Lets every parameter in the tree receive gradients again.
    public func unfreeze() {
        for p in parameters() { p.requiresGrad = true }
    }

    /// Clears the gradient of every parameter in the tree.
    public func zeroGrad() {
        for p in parameters() { p.zeroGrad() }
    }
}
