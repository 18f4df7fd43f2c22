import CairnTraining
import Foundation
import Testing

@Suite("the model's tanh")
struct FastTanhTests {
    @Test("within 4e-7 of libm's tanh (in Double) on a dense grid over ±12, odd, and ±1 far out")
    func accuracy() {
        var worst = 0.0
        for i in 0...240_000 {
            let x = Float(-12 + Double(i) * 1e-4)
            worst = max(worst, abs(Double(ModelMath.tanh(x)) - Foundation.tanh(Double(x))))
            #expect(ModelMath.tanh(-x) == -ModelMath.tanh(x))
        }
        #expect(worst < 4e-7, "worst error \(worst)")
        #expect(ModelMath.tanh(0) == 0)
        #expect(abs(ModelMath.tanh(30) - 1) < 3e-7 && abs(ModelMath.tanh(-1e30) + 1) < 3e-7)
    }
}
