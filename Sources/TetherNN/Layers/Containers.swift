import Tether

/// A list of modules named `"0"`, `"1"`, ... (PyTorch's `nn.ModuleList`), such as the
/// blocks of a transformer: `h.0.attn.c_attn.weight`.
public final class ModuleList: Module {
    /// The modules, in order.
    @Ignored public var modules: [Module]

    /// A list holding `modules`.
    public init(_ modules: [Module] = []) {
        self.modules = modules
        super.init()
    }

    /// Appends a module; it is named by its index.
    public func append(_ module: Module) { modules.append(module) }

    /// Number of modules.
    public var count: Int { modules.count }

    /// The module at `index`.
    public subscript(index: Int) -> Module { modules[index] }

    override public func namedChildren() -> [(String, Module)] {
        modules.enumerated().map { ("\($0.offset)", $0.element) }
    }

    override public func namedDirectParameters() -> [(String, Tensor)] { [] }
}

/// A chain of tensor-to-tensor layers applied in order, children named `"0"`, `"1"`, ...
public final class Sequential: Module {
    /// A layer of the chain with its forward function.
    public typealias Layer = (module: Module, forward: (Tensor) -> Tensor)

    @Ignored private var layers: [Layer]

    /// A chain of `layers`; use ``UnaryLayer`` modules or ``Lambda`` for parameter-free steps.
    public init(_ layers: [any UnaryLayer]) {
        self.layers = layers.map { layer in (layer as Module, { layer($0) }) }
        super.init()
    }

    /// Number of layers.
    public var count: Int { layers.count }

    /// The module at `index`.
    public subscript(index: Int) -> Module { layers[index].module }

    /// Applies every layer in turn: `x` → layer 0 → layer 1 → ...
    public func callAsFunction(_ x: Tensor) -> Tensor {
        layers.reduce(x) { $1.forward($0) }
    }

    override public func namedChildren() -> [(String, Module)] {
        layers.enumerated().map { ("\($0.offset)", $0.element.module) }
    }

    override public func namedDirectParameters() -> [(String, Tensor)] { [] }
}

/// A module that maps one tensor to one tensor, so it can sit in a ``Sequential``.
public protocol UnaryLayer: Module {
    /// Applies the layer.
    func callAsFunction(_ x: Tensor) -> Tensor
}

/// A parameter-free step (an activation) wrapped as a module for ``Sequential``.
public final class Lambda: Module, UnaryLayer {
    @Ignored private var body: (Tensor) -> Tensor

    /// Wraps `body`.
    public init(_ body: @escaping (Tensor) -> Tensor) {
        self.body = body
        super.init()
    }

    /// Applies the wrapped function.
    public func callAsFunction(_ x: Tensor) -> Tensor { body(x) }
}

extension Sequential: UnaryLayer {}
