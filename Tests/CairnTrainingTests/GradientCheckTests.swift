import CairnCore
import CairnTraining
import Foundation
import Testing

@Suite("byte MLP: forward and backward")
struct GradientCheckTests {
    /// Float analytic gradient against Double central differences of the naive reference, on every
    /// parameter of a tiny model. Tolerances follow torch.autograd.gradcheck, loosened for a Float32
    /// gradient: |g − fd| ≤ 1e-5 + 2e-3·|fd|.
    static func mismatches(of gradient: [Float], task: ReferenceTask, theta: [Float], positions: [Int]) -> Int {
        let reference = MLPReference<Double>(layout: task.layout)
        let text = task.corpus.bytes
        var thetaD = theta.map(Double.init)
        var bad = 0
        let eps = 1e-6
        for i in thetaD.indices {
            let saved = thetaD[i]
            thetaD[i] = saved + eps
            let up = reference.loss(thetaD, text: text, positions: positions, tanh: Foundation.tanh, exp: Foundation.exp, log: Foundation.log)
            thetaD[i] = saved - eps
            let down = reference.loss(thetaD, text: text, positions: positions, tanh: Foundation.tanh, exp: Foundation.exp, log: Foundation.log)
            thetaD[i] = saved
            let fd = (up - down) / (2 * eps)
            if abs(Double(gradient[i]) - fd) > 1e-5 + 2e-3 * abs(fd) { bad += 1 }
        }
        return bad
    }

    static func analytic(task: ReferenceTask, theta: [Float], positions: [Int]) -> (loss: Double, gradient: [Float]) {
        var gradient = [Float](repeating: 0, count: task.parameterCount)
        let workspace = ByteMLP.Workspace(layout: task.layout, capacity: positions.count)
        let loss = theta.withUnsafeBufferPointer { t in
            task.corpus.bytes.withUnsafeBufferPointer { text in
                gradient.withUnsafeMutableBufferPointer { g in
                    task.model.lossAndGradient(t, text: text, positions: positions[...], workspace: workspace, gradient: g)
                }
            }
        }
        return (loss, gradient)
    }

    @Test("the analytic gradient matches central differences on every parameter (3 seeds)", arguments: [1, 2, 3] as [UInt64])
    func gradientCheck(seed: UInt64) throws {
        let task = try Tiny.task()
        var rng = SplitMix64(seed: seed)
        // Larger than initial weights, so tanh saturates partly and every path matters.
        let theta = (0..<task.parameterCount).map { _ in rng.symmetricUnit() * 0.8 }
        let positions = (0..<7).map { _ in Int(rng.below(UInt64(task.split.trainingCount))) } + [0, 0]
        let (loss, gradient) = Self.analytic(task: task, theta: theta, positions: positions)
        let reference = MLPReference<Double>(layout: task.layout).loss(theta.map(Double.init), text: task.corpus.bytes, positions: positions,
                                                                       tanh: Foundation.tanh, exp: Foundation.exp, log: Foundation.log)
        #expect(abs(loss - reference) <= 1e-5 * abs(reference), "Float loss \(loss) vs Double reference \(reference)")
        #expect(Self.mismatches(of: gradient, task: task, theta: theta, positions: positions) == 0)
        // Repeated positions (0, 0) and repeated context bytes make the embedding scatter add up.
        #expect(gradient[task.layout.embedding.range].contains { $0 != 0 })
    }

    @Test("the check fails on a wrong gradient (one weight slot scaled by 1.05)")
    func knownBad() throws {
        let task = try Tiny.task()
        var rng = SplitMix64(seed: 9)
        let theta = (0..<task.parameterCount).map { _ in rng.symmetricUnit() * 0.8 }
        let positions = [5, 17, 400, 1000]
        var (_, gradient) = Self.analytic(task: task, theta: theta, positions: positions)
        for i in task.layout.hidden(1).weight.range { gradient[i] *= 1.05 }
        #expect(Self.mismatches(of: gradient, task: task, theta: theta, positions: positions) > 0)
    }

    @Test("a batch's loss equals the mean of its single-context losses; slicing a long list changes nothing")
    func batching() throws {
        let task = try Tiny.task()
        let theta = task.initialParameters(seed: DataSplit.seed("test", [1]))
        let positions = Array(stride(from: 0, to: 3000, by: 7))
        let whole = task.loss(theta, positions: positions, workspace: ByteMLP.Workspace(layout: task.layout, capacity: positions.count))
        let sliced = task.loss(theta, positions: positions, workspace: ByteMLP.Workspace(layout: task.layout, capacity: 64))
        let singles = positions.map { task.loss(theta, positions: [$0]) }.reduce(0, +) / Double(positions.count)
        // Equal up to BLAS's last bits (kernels may block differently for other batch sizes).
        #expect(abs(whole - sliced) < 1e-5)
        #expect(abs(whole - singles) < 1e-5)
        // An untrained model is near uniform over 256 bytes: ln 256 ≈ 5.545.
        #expect(abs(whole - log(256.0)) < 0.5)
    }
}
