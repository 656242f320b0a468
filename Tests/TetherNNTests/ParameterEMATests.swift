import Testing
import Tether
@testable import TetherNN

/// The moving average of parameters against values worked out by hand.
@Suite struct ParameterEMATests {
    @Test func averagesFollowTheFormulaAndApplyWritesThem() {
        let p = Tensor([1, 2], shape: [2])
        let ema = ParameterEMA([p], decay: 0.75)
        #expect(ema.averages == [[1, 2]])                      // starts at the parameters
        p.data[0] = 5; p.data[1] = -2
        ema.update()                                          // 0.75·a + 0.25·p
        #expect(ema.averages == [[2, 1]])
        p.data[0] = 10; p.data[1] = 1
        ema.update()
        #expect(ema.averages == [[4, 1]])
        let version = p.storage.version
        ema.apply()
        #expect(p.scalars() == [4, 1])
        #expect(p.storage.version > version)                  // caches keyed on the storage version see the change
    }

    @Test func zeroDecayTracksTheLastValues() {
        let p = Tensor([3, 4, 5], shape: [3])
        let ema = ParameterEMA([p], decay: 0)
        p.data[2] = 7
        ema.update()
        ema.apply()
        #expect(p.scalars() == [3, 4, 7])
    }
}
