import Foundation

extension Date {
    /// Milliseconds since 1970: how the store keeps time (exact on both databases).
    ///
    /// Saturates at the ends of `Int64` (and reads NaN as 0) rather than trapping: a date can come from outside input.
    public var milliseconds: Int64 {
        let value = (timeIntervalSince1970 * 1000).rounded()
        if value.isNaN { return 0 }
        // Double(Int64.max) is 2^63, one past the largest Int64: converting it would trap.
        if value >= Double(Int64.max) { return .max }
        if value <= Double(Int64.min) { return .min }
        return Int64(value)
    }

    public init(milliseconds: Int64) { self.init(timeIntervalSince1970: Double(milliseconds) / 1000) }
}
