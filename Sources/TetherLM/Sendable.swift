import Tether
import TetherNN

// Models shared across tasks.
//
// Why `@unchecked` is sound here: a forward pass (and so `generate`, `generateStream`,
// scoring, `tokenLogProbs`) only reads a model. It reads parameter tensors and module
// properties and writes nothing reachable from the model: activations, KV caches
// (`makeCache()` makes one per call), rotary tables and packed weights (a
// `WeightPackCache` per scope, behind a lock) are per call; `GradMode` is task-local; the
// thread pool runs one job at a time and runs concurrent callers' loops inline; the buffer
// cache is behind a lock. A forward with gradients on records graph nodes on its own outputs
// only. What does write to a model — optimizer steps, `backward()` (it accumulates `grad`),
// `load(stateDict:)`, attaching or merging LoRA, `train()`/`eval()`, and dropout in training
// mode (it advances the dropout generator; LoRA adapters with dropout > 0) — must not run
// while another task uses the model. Call `eval()` before sharing a model with dropout.

/// A causal LM can be shared by tasks for concurrent inference (see the note above).
extension CausalLM: @unchecked Sendable {}

/// A score model can be shared by tasks for concurrent inference (see the note above).
extension ScoreModel: @unchecked Sendable {}

/// A trunk can be shared by tasks for concurrent inference (see the note above).
extension Transformer: @unchecked Sendable {}
