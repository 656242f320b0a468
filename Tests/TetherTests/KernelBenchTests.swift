import Foundation
import Testing
@testable import Tether

@Suite struct KernelBenchTests {
    /// `--json` output is one JSON object with a number per figure, the ISA and the notes.
    @Test func reportIsOneJSONObject() throws {
        var r = KernelBenchReport(isa: "avx2", threads: 2)
        r.add("fma_peak_gflops", 200, label: "all", text: "200")
        r.add("gemm_peak_fraction", 0.875, label: "worst", text: "87.5%")
        r.figures.append(("layernorm_gbps", .nan))
        r.notes.append("a \"quoted\" note")
        let object = try JSONSerialization.jsonObject(with: Data(r.json().utf8)) as? [String: Any]
        #expect(object?["isa"] as? String == "avx2")
        #expect(object?["threads"] as? Int == 2)
        #expect(object?["gemm_peak_fraction"] as? Double == 0.875)
        #expect(object?["fma_peak_gflops"] as? Double == 200)
        #expect(object?["layernorm_gbps"] is NSNull)
        #expect((object?["notes"] as? [String])?.count == 1)
        #expect(r["gemm_peak_fraction"] == 0.875)
        #expect(r.table().contains("87.5%"))
    }

    /// The GEMM cases are the four forward shapes and both backward GEMMs of each.
    @Test func gemmCasesCoverForwardAndBackward() {
        let cases = KernelBench.gemmCases()
        #expect(cases.count == 12)
        for f in cases where f.name.hasPrefix("fwd") {
            #expect(cases.contains { $0.name.hasPrefix("dA") && $0.m == f.m && $0.n == f.k && $0.k == f.n && $0.transB })
            #expect(cases.contains { $0.name.hasPrefix("dB") && $0.m == f.k && $0.n == f.n && $0.k == f.m && $0.transA })
        }
    }
}
