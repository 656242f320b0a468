import Foundation
import Tether

/// What shapes the world's prompts: how many, which kinds in what proportion, and what is held out.
public struct AssistantWorldConfig: Sendable, Hashable, Codable {
    /// Seed of every draw (prompts, split, responses, labels).
    public var seed: UInt64 = 0
    /// Training prompts to make (request prompts repeat, each with fresh responses; arithmetic ones do not).
    public var prompts = 2000
    /// Arithmetic sub-tasks (`TaskSpec` names), kept small so tiny models can learn them.
    public var arithmeticTasks = ["add_2x2", "mul_2x1"]
    /// Share of training prompts that are arithmetic.
    public var arithmeticFraction = 0.5
    /// Share of training prompts that are harmful requests (the rest are look-alikes).
    public var harmfulFraction = 0.25
    /// Share of the request prompts (frame x request) held out for evaluation, per kind.
    public var heldOutFraction = 0.2
    /// Held-out arithmetic problems per sub-task.
    public var evalArithmeticPerTask = 50

    /// The default world.
    public init() {}

    /// Throws naming the field if the world cannot be made.
    public func validate() throws(DatasetError) {
        guard prompts > 0 else { throw DatasetError(field: "prompts", "expected a count > 0, got \(prompts)") }
        guard (0...1).contains(arithmeticFraction), (0...1).contains(harmfulFraction),
              arithmeticFraction + harmfulFraction <= 1 else {
            throw DatasetError(field: "harmful_fraction", "expected fractions in 0...1 summing to at most 1, got "
                               + "arithmetic \(arithmeticFraction) and harmful \(harmfulFraction)")
        }
        guard heldOutFraction > 0 && heldOutFraction < 1 else {
            throw DatasetError(field: "held_out_fraction", "expected a fraction between 0 and 1, got \(heldOutFraction)")
        }
        guard !arithmeticTasks.isEmpty else { throw DatasetError(field: "tasks", "expected at least one arithmetic task") }
    }
}

/// The world's prompts, split so that no evaluation prompt is ever a training prompt.
///
/// Request prompts (every frame of every harmful and look-alike request) are split per kind by a seeded shuffle;
/// arithmetic problems use `ArithmeticData`'s held-out guarantee (no test problem, commuted or embedded, is a
/// training problem).
public struct AssistantWorld: Sendable {
    /// The config that made the world.
    public var config: AssistantWorldConfig
    /// Training prompts in a seeded order, request prompts repeated to fill their shares.
    public var train: [AssistantPrompt]
    /// Held-out prompts: arithmetic test problems, then held-out harmful and look-alike prompts.
    public var eval: [AssistantPrompt]

    /// Makes the world of `config`. With `arithmetic`, its problems are the world's arithmetic prompts instead of
    /// ones made from `config.arithmeticTasks` (the first training problems, and the first
    /// `evalArithmeticPerTask` test problems of each task): a caller that trained on `arithmetic.train` before keeps
    /// the world's held-out prompts held out.
    public init(_ config: AssistantWorldConfig,
                arithmetic: (train: [ArithmeticProblem], test: [ArithmeticProblem])? = nil) throws(DatasetError) {
        try config.validate()
        self.config = config
        let root = RandomGenerator(seed: config.seed)
        let arithmeticCount = Int((Double(config.prompts) * config.arithmeticFraction).rounded())
        let harmfulCount = Int((Double(config.prompts) * config.harmfulFraction).rounded())
        let lookAlikeCount = config.prompts - arithmeticCount - harmfulCount
        let problems: (train: [ArithmeticProblem], test: [ArithmeticProblem])
        if let arithmetic { problems = arithmetic } else { problems = try Self.problems(config, count: arithmeticCount) }
        var train = problems.train.prefix(arithmeticCount).map(AssistantPrompt.init)
        var perTask: [String: Int] = [:]
        var eval = problems.test.filter { p in
            perTask[p.task, default: 0] += 1
            return perTask[p.task]! <= config.evalArithmeticPerTask
        }.map(AssistantPrompt.init)
        for (label, kind, count) in [(UInt64(1), AssistantPromptKind.harmful, harmfulCount),
                                     (2, .lookAlike, lookAlikeCount)] {
            var rng = root.fork(label)
            let parts = Self.split(kind, fraction: config.heldOutFraction, rng: &rng)
            var pool = parts.train
            eval += parts.heldOut
            // Cycle through the shuffled pool so each training prompt appears about equally often.
            for i in 0..<count {
                if i % pool.count == 0 && i > 0 { rng.shuffle(&pool) }
                train.append(pool[i % pool.count])
            }
        }
        var mix = root.fork(3)
        mix.shuffle(&train)
        self.train = train
        self.eval = eval
    }

    /// `count` training and `evalArithmeticPerTask` test problems per task of `config.arithmeticTasks`.
    static func problems(_ config: AssistantWorldConfig,
                         count: Int) throws(DatasetError) -> (train: [ArithmeticProblem], test: [ArithmeticProblem]) {
        let perTask = (count + config.arithmeticTasks.count - 1) / config.arithmeticTasks.count
        let specs = try config.arithmeticTasks.enumerated().map { (i, name) throws(DatasetError) in
            try TaskSpec(name: name, trainCount: perTask, testCount: config.evalArithmeticPerTask,
                         seed: config.seed &+ UInt64(i))
        }
        return try ArithmeticData.generate(specs: specs, seed: config.seed)
    }

    /// Every prompt of `kind` (frame x request), split by a seeded shuffle into training and held-out parts.
    static func split(_ kind: AssistantPromptKind, fraction: Double,
                      rng: inout RandomGenerator) -> (train: [AssistantPrompt], heldOut: [AssistantPrompt]) {
        var all: [AssistantPrompt] = []
        for (i, item) in RequestBank.items(kind).enumerated() {
            for f in RequestBank.frames.indices {
                all.append(AssistantPrompt(text: RequestBank.prompt(frame: f, action: item.action), kind: kind, item: i))
            }
        }
        rng.shuffle(&all)
        let k = max(1, Int((Double(all.count) * fraction).rounded(.up)))
        return (Array(all[k...]), Array(all[..<k]))
    }
}
