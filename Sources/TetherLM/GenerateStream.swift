import Foundation
import Tether

/// Generation as an `AsyncSequence`: each token of each sample as soon as it is drawn.
///
/// Same sampling as ``generate(model:prompts:config:decode:progress:)`` (same seed, same
/// tokens); a sample's last token carries its ``FinishReason``. Validation errors are thrown
/// here, before any work. The loop runs on a thread of its own and stops at the next step
/// once the stream is dropped or its consumer's task is cancelled. The model is only read (so
/// other tasks may use it meanwhile), but it must not be changed while the stream runs.
public func generateStream(model: CausalLM, prompts: [[Int32]], config: SamplingConfig,
                           decode: (@Sendable ([Int32]) -> String)? = nil,
                           progress: (@Sendable (_ done: Int, _ total: Int) -> Void)? = nil)
    throws -> AsyncStream<GeneratedToken> {
    let generation = try Generation(model: model, prompts: prompts, config: config, hasDecode: decode != nil)
    let stop = StopFlag()
    let (stream, continuation) = AsyncStream<GeneratedToken>.makeStream(bufferingPolicy: .unbounded)
    continuation.onTermination = { _ in stop.set() }
    // A thread of its own: seconds of blocking compute do not belong on the cooperative pool.
    let thread = Thread {
        _ = generation.run(decode: decode, cancelled: { stop.isSet },
                           onToken: { continuation.yield($0) }, progress: progress)
        continuation.finish()
    }
    thread.name = "tether-generate"
    thread.start()
    return stream
}

/// A flag set once, from any thread (the consumer ending the stream).
private final class StopFlag: @unchecked Sendable {
    private let lock = NSLock()
    private var value = false
    /// Raises the flag.
    func set() { lock.lock(); value = true; lock.unlock() }
    /// Whether the flag is raised.
    var isSet: Bool { lock.lock(); defer { lock.unlock() }; return value }
}
