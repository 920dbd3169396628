/// Decides whether a `/regex/` of a `.gitlab-ci.yml` may run on our backtracking engine (ICU, behind NSRegularExpression).
///
/// GitLab matches with RE2, which never backtracks. ICU does, so a hostile file could pin a server thread with
/// `(a+)+$`. This refuses what RE2 refuses (backreferences, lookaround, atomic groups, possessive quantifiers,
/// repetition counts above 1000) and the shapes that backtrack exponentially: a repeated group with a branch that has
/// a quantifier and nothing it must match (`(a+)+`, `(\w+\s?)*`, `(.*)*`, `(a?){30}`). What passes can still be
/// slow (`(a|aa)+$`, `.*.*.*x`): `CIMatchBudget` bounds the time every match of one pipeline may take.
enum CIPatternSafety {
    /// RE2's `kMaxRepeat`.
    static let maxRepeat = 1000

    /// Why `source` is refused, or nil when it may run.
    static func refusal(_ source: String) -> String? {
        var scanner = Scanner(characters: Array(source))
        return scanner.run()
    }

    /// What the scanner knows about one atom or group: whether it must match something, and whether it holds a quantifier.
    private struct Shape {
        var mandatory: Bool
        var quantified: Bool
    }

    /// One open group: its finished branches and the current one.
    private struct Group {
        var branchesMandatory = true
        var branchesQuantified = false
        var anyBranchUnsafe = false
        var current = Shape(mandatory: false, quantified: false)

        mutating func add(_ shape: Shape) {
            current.mandatory = current.mandatory || shape.mandatory
            current.quantified = current.quantified || shape.quantified
        }

        mutating func closeBranch() {
            branchesMandatory = branchesMandatory && current.mandatory
            branchesQuantified = branchesQuantified || current.quantified
            // A branch that can match in many ways and need not consume anything: repeating it backtracks exponentially.
            anyBranchUnsafe = anyBranchUnsafe || (current.quantified && !current.mandatory)
            current = Shape(mandatory: false, quantified: false)
        }
    }

    private struct Scanner {
        let characters: [Character]
        var index = 0
        var stack: [Group] = [Group()]
        /// The last atom, which a quantifier applies to: its shape and, for a group, whether repeating it is unsafe.
        var last: (shape: Shape, unsafeIfRepeated: Bool)?

        init(characters: [Character]) { self.characters = characters }

        var atEnd: Bool { index >= characters.count }
        func peek(_ offset: Int = 0) -> Character? { index + offset < characters.count ? characters[index + offset] : nil }

        mutating func push(_ shape: Shape, unsafeIfRepeated: Bool = false) {
            flush()
            last = (shape, unsafeIfRepeated)
        }

        mutating func flush() {
            if let atom = last {
                stack[stack.count - 1].add(atom.shape)
                last = nil
            }
        }

        mutating func run() -> String? {
            while !atEnd {
                let character = characters[index]
                index += 1
                switch character {
                case "\\":
                    if let reason = escape() { return reason }
                case "[":
                    skipClass()
                    push(Shape(mandatory: true, quantified: false))
                case "(":
                    if let reason = openGroup() { return reason }
                case ")":
                    guard stack.count > 1 else { return nil }
                    flush()
                    var group = stack.removeLast()
                    group.closeBranch()
                    push(Shape(mandatory: group.branchesMandatory, quantified: group.branchesQuantified), unsafeIfRepeated: group.anyBranchUnsafe)
                case "|":
                    flush()
                    stack[stack.count - 1].closeBranch()
                case "^", "$":
                    push(Shape(mandatory: false, quantified: false))
                case "*", "+", "?":
                    if let reason = quantifier(min: character == "+" ? 1 : 0, max: character == "?" ? 1 : nil) { return reason }
                case "{":
                    if let (min, max) = repetition() {
                        guard min <= Self.maxRepeat, (max ?? 0) <= Self.maxRepeat else {
                            return "bad repetition operator: a count above \(Self.maxRepeat)"
                        }
                        if let reason = quantifier(min: min, max: max) { return reason }
                    } else {
                        push(Shape(mandatory: true, quantified: false))
                    }
                default:
                    push(Shape(mandatory: true, quantified: false))
                }
            }
            return nil
        }

        static var maxRepeat: Int { CIPatternSafety.maxRepeat }

        /// After `\`: `\1`… are backreferences; `\Q…\E` quotes; `\p{…}` is one class; the rest is one atom.
        mutating func escape() -> String? {
            guard let next = peek() else { return nil }
            index += 1
            switch next {
            case "1"..."9": return "backreferences are not supported"
            case "b", "B", "A", "z", "Z", "G": push(Shape(mandatory: false, quantified: false))
            case "Q":
                while !atEnd, !(characters[index] == "\\" && peek(1) == "E") { index += 1 }
                index = Swift.min(index + 2, characters.count)
                push(Shape(mandatory: true, quantified: false))
            case "p", "P", "x":
                if peek() == "{" { while !atEnd, characters[index] != "}" { index += 1 }; index += 1 }
                push(Shape(mandatory: true, quantified: false))
            case "k": return "backreferences are not supported"
            default: push(Shape(mandatory: true, quantified: false))
            }
            return nil
        }

        /// Skips a character class, `]` first and `\]` included, and POSIX `[:alpha:]` inside.
        mutating func skipClass() {
            if peek() == "^" { index += 1 }
            if peek() == "]" { index += 1 }
            while !atEnd {
                let character = characters[index]
                index += 1
                if character == "\\" { index += 1 } else if character == "[", peek() == ":" {
                    while !atEnd, !(characters[index] == ":" && peek(1) == "]") { index += 1 }
                    index += 2
                } else if character == "]" { return }
            }
        }

        /// After `(`: refuses lookaround and atomic groups, skips `?:`, `?i:`, `?P<name>`, `?<name>`; `(?i)` alone sets flags.
        mutating func openGroup() -> String? {
            flush()
            if peek() == "?" {
                let rest = String(characters[index..<Swift.min(index + 4, characters.count)])
                if rest.hasPrefix("?=") || rest.hasPrefix("?!") || rest.hasPrefix("?<=") || rest.hasPrefix("?<!") {
                    return "lookahead and lookbehind are not supported"
                }
                if rest.hasPrefix("?>") { return "atomic groups are not supported" }
                if rest.hasPrefix("?#") { return "comments are not supported" }
                index += 1
                while !atEnd, ![":", ")", ">"].contains(characters[index]) { index += 1 }
                if peek() == ")" {
                    index += 1
                    return nil
                }
                index += 1
            }
            stack.append(Group())
            return nil
        }

        /// `{n}`, `{n,}` or `{n,m}` at `index` (just after `{`); anything else is a literal `{`.
        mutating func repetition() -> (Int, Int?)? {
            var cursor = index
            func number() -> Int? {
                var digits = ""
                while cursor < characters.count, characters[cursor].isASCII, characters[cursor].isNumber, digits.count < 6 {
                    digits.append(characters[cursor])
                    cursor += 1
                }
                return Int(digits)
            }
            guard let min = number() else { return nil }
            var max: Int? = min
            if cursor < characters.count, characters[cursor] == "," {
                cursor += 1
                max = number()
            }
            guard cursor < characters.count, characters[cursor] == "}" else { return nil }
            index = cursor + 1
            return (min, max)
        }

        /// Applies a quantifier to the last atom; `max` nil is unbounded. A trailing `+` (possessive) is refused.
        mutating func quantifier(min: Int, max: Int?) -> String? {
            if peek() == "+" { return "possessive quantifiers are not supported" }
            if peek() == "?" { index += 1 }
            guard let atom = last else { return "missing argument to repetition operator" }
            if atom.unsafeIfRepeated, (max ?? 2) > 1 {
                return "a quantifier inside a repeated group can take exponential time to match"
            }
            // Only an exact count still pins what the atom matches; `a+` or `a?` can take many lengths.
            last = (Shape(mandatory: atom.shape.mandatory && min > 0 && max == min, quantified: true), false)
            return nil
        }
    }
}
