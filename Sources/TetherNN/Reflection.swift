import Tether

/// Gives a module's stored property a state-dict name other than its Swift name.
///
/// ```swift
/// @Key("c_attn") var cAttn: Linear
/// init(...) { _cAttn.wrappedValue = Linear(...); super.init() }  // or assign after super.init()
/// ```
@propertyWrapper
public struct Key<Value>: KeyedProperty {
    /// The name used in parameter paths and state dicts.
    public let key: String
    private var value: Value?

    /// A property named `key`, to be assigned in the initializer.
    public init(_ key: String) { self.key = key }

    /// A property named `key` holding `wrappedValue`.
    public init(wrappedValue: Value, _ key: String) {
        self.key = key
        self.value = wrappedValue
    }

    /// The wrapped value (traps if read before it was assigned).
    public var wrappedValue: Value {
        get {
            guard let value else { preconditionFailure("@Key(\"\(key)\") property read before it was assigned") }
            return value
        }
        set { value = newValue }
    }

    var reflectedValue: Any? { value.map { $0 as Any } }
}

/// Keeps a module's stored property out of its parameters, children and state dict
/// (cached masks, rotary tables, a frozen reference model held for convenience).
@propertyWrapper
public struct Ignored<Value>: IgnoredProperty {
    /// The wrapped value.
    public var wrappedValue: Value

    /// Wraps `wrappedValue`.
    public init(wrappedValue: Value) { self.wrappedValue = wrappedValue }
}

protocol KeyedProperty {
    var key: String { get }
    var reflectedValue: Any? { get }
}

protocol IgnoredProperty {}

extension Module {
    /// Parameters and children found by reflection over stored properties, superclass first.
    func reflectedMembers() -> (parameters: [(String, Tensor)], children: [(String, Module)]) {
        var mirrors: [Mirror] = []
        var mirror: Mirror? = Mirror(reflecting: self)
        while let m = mirror {
            mirrors.append(m)
            mirror = m.superclassMirror
        }
        var parameters: [(String, Tensor)] = []
        var children: [(String, Module)] = []
        for m in mirrors.reversed() {
            for child in m.children {
                guard var name = child.label, !name.hasPrefix("$") else { continue }
                var value: Any = child.value
                if value is IgnoredProperty { continue }
                if let keyed = value as? KeyedProperty {
                    guard let wrapped = keyed.reflectedValue else { continue }
                    name = keyed.key
                    value = wrapped
                }
                switch value {
                case let tensor as Tensor:
                    parameters.append((name, tensor))
                case let module as Module:
                    children.append((name, module))
                case let modules as [Module]:
                    // A stand-in container, made afresh on each walk; it mirrors its parent's mode.
                    let list = ModuleList(modules)
                    list.isTraining = isTraining
                    children.append((name, list))
                case let tensors as [Tensor]:
                    for (i, t) in tensors.enumerated() { parameters.append(("\(name).\(i)", t)) }
                default:
                    continue
                }
            }
        }
        return (parameters, children)
    }
}
