import Foundation
import FuzzDriver
import FuzzHarnesses

/// One input for libFuzzer: the harness's invariants must hold, and the parser must not trap.
@_cdecl("LLVMFuzzerTestOneInput")
func fuzzOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let problems = FuzzHarnesses.junit(data.map { Array(UnsafeBufferPointer(start: $0, count: size)) } ?? [])
    precondition(problems.isEmpty, problems.joined(separator: "; "))
    return 0
}

// SwiftPM gives every executable a main, so libFuzzer's own main is not linked; its driver takes the command line.
var arguments: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = CommandLine.unsafeArgv
var count = CommandLine.argc
exit(LLVMFuzzerRunDriver(&count, &arguments, fuzzOneInput))
