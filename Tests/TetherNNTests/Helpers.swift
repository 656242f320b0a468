import Foundation
import Tether
@testable import TetherNN

/// |a - b| ≤ atol + rtol·|b| element-wise.
func close(_ a: [Float], _ b: [Double], rtol: Double = 1e-5, atol: Double = 1e-7) -> Bool {
    a.count == b.count && zip(a, b).allSatisfy { abs(Double($0) - $1) <= atol + rtol * abs($1) }
}

func close(_ a: Float, _ b: Double, rtol: Double = 1e-5, atol: Double = 1e-7) -> Bool {
    abs(Double(a) - b) <= atol + rtol * abs(b)
}

/// An independent dense copy (no shared storage, no autograd).
func clone(_ t: Tensor) -> Tensor {
    Tensor(t.scalars(), shape: t.shape)
}

/// The raw bit patterns of a tensor's values, for bit-exact comparisons.
func bits(_ t: Tensor) -> [UInt32] {
    t.scalars().map(\.bitPattern)
}

/// A small GPT-2-shaped tree used by the naming tests.
final class TinyAttention: Module {
    @Key("c_attn") var cAttn: Linear
    @Key("c_proj") var cProj: Linear

    init(dim: Int, rng: inout RandomGenerator) {
        _cAttn.wrappedValue = Linear(in: dim, out: 3 * dim, rng: &rng)
        _cProj.wrappedValue = Linear(in: dim, out: dim, rng: &rng)
        super.init()
    }
}

final class TinyBlock: Module {
    @Key("ln_1") var ln1: LayerNorm
    let attn: TinyAttention
    @Key("ln_2") var ln2: LayerNorm
    let dropout: Dropout
    @Ignored var cache: Tensor = Tensor.zeros([2])

    init(dim: Int, rng: inout RandomGenerator) {
        attn = TinyAttention(dim: dim, rng: &rng)
        dropout = Dropout(p: 0.1, rng: rng.split())
        super.init()
        ln1 = LayerNorm(dim: dim)
        ln2 = LayerNorm(dim: dim)
    }
}

final class TinyTransformer: Module {
    let wte: Embedding
    let h: [TinyBlock]
    @Key("ln_f") var lnF: LayerNorm
    /// Tied to `wte.weight`, as in GPT-2.
    @Key("lm_head") var lmHead: Linear

    init(vocab: Int, dim: Int, layers: Int, rng: inout RandomGenerator) {
        wte = Embedding(count: vocab, dim: dim, std: 0.02, rng: &rng)
        var blocks: [TinyBlock] = []
        for _ in 0..<layers { blocks.append(TinyBlock(dim: dim, rng: &rng)) }
        h = blocks
        super.init()
        lnF = LayerNorm(dim: dim)
        lmHead = Linear(weight: wte.weight, bias: nil)
    }
}

/// A new empty directory under the system temporary directory.
func temporaryDirectory() throws -> URL {
    let url = FileManager.default.temporaryDirectory
        .appendingPathComponent("tether-nn-tests-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    return url
}
