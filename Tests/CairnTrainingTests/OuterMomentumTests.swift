import CairnTraining
import Testing

@Suite("Outer Nesterov momentum")
struct OuterMomentumTests {
    @Test("a constant step accumulates geometrically: u, then u(1+μ)+μ²u …")
    func constantStep() {
        var momentum = OuterMomentum(mu: 0.5, parameterCount: 2)
        var theta: [Float] = [10, -4]
        let u: [Float] = [1, -2]
        var expectedM: [Float] = [0, 0]
        for _ in 0..<4 {
            let aggregated = zip(theta, u).map { $0 - $1 }
            let next = momentum.step(base: theta, aggregated: aggregated)
            for i in 0..<2 {
                expectedM[i] = 0.5 * expectedM[i] + u[i]
                #expect(next[i] == theta[i] - (u[i] + 0.5 * expectedM[i]))
            }
            #expect(momentum.buffer == expectedM)
            theta = next
        }
        // After four steps the buffer approaches u / (1 − μ) = 2u.
        #expect(abs(momentum.buffer[0] - 1.875) < 1e-6)
    }

    @Test("μ = 0 takes exactly the aggregated step")
    func zeroMomentumIsPlainStep() {
        var momentum = OuterMomentum(mu: 0, parameterCount: 3)
        let base: [Float] = [0.1, 0.2, 0.3]
        let aggregated: [Float] = [0.05, 0.25, 0.3]
        #expect(momentum.step(base: base, aggregated: aggregated) == aggregated)
    }
}
