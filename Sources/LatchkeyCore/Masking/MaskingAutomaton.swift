/// An Aho–Corasick automaton over the mask patterns and token prefixes, compiled to a dense transition table.
///
/// Bytes are first mapped to byte classes (one class per byte value that occurs in any
/// pattern, class 0 for all others), so a row is as wide as the patterns' alphabet, not 256.
/// Failure links are folded into the table at build time, so a step is two loads and never
/// backtracks; that is what makes the masker correct under every chunking (GitLab's
/// per-phrase matcher restarts only on the first byte and misses `aab` in `aaab`).
///
/// Table entries are row offsets (`state * classCount`) rather than state numbers, saving a
/// multiplication per byte. States that end a pattern or a prefix ("special" states) are
/// numbered last, so the hot loop detects them with one comparison against `firstSpecialOffset`.
final class MaskingAutomaton: Sendable {
    /// Byte value to byte class.
    let byteClass: [UInt8]
    let classCount: Int
    /// `table[offset + class]` is the offset of the next state.
    let table: [UInt32]
    /// Offsets at or above this belong to special states.
    let firstSpecialOffset: UInt32
    /// Per state: the length of the longest pattern prefix it represents, i.e. how many of the last bytes may still be part of a match.
    let depth: [UInt32]
    /// Per special state (index `state - firstSpecialState`): the longest pattern ending here, or 0.
    let matchLength: [UInt32]
    /// Per special state: whether a token prefix ends here.
    let endsPrefix: [Bool]
    /// Per special state: the most characters of a partly covered encoded group that may follow a pattern ending here (0 if none).
    let tailCharacters: [UInt8]
    /// Per special state: 1 if `=` padding may fill the rest of that group.
    let tailPadding: [UInt8]
    /// Per special state: how many encoded characters before the longest pattern ending here are masked with it.
    let head: [UInt8]
    /// The largest head of any pattern.
    let maximumHead: UInt8
    /// The row offset of the stop state: every state goes there on a byte in `stopBytes`, so the hot loop leaves on it.
    let stopOffset: UInt32
    let stateCount: Int
    /// The longest pattern or prefix, a bound on the bytes ever held back.
    let longestPattern: Int

    /// Compiles `patterns` (with per-pattern encoded-group tails, parallel to `patterns`) and `prefixes`.
    ///
    /// `stopBytes` must occur in no pattern or prefix; every transition on them leads to one special stop state.
    init(patterns: [[UInt8]], tails: [(characters: UInt8, padding: UInt8)], heads: [UInt8], prefixes: [[UInt8]], stopBytes: [UInt8]) {
        precondition(tails.count == patterns.count && heads.count == patterns.count, "one tail and one head per pattern")
        var used = [Bool](repeating: false, count: 256)
        for pattern in patterns + prefixes {
            for byte in pattern { used[Int(byte)] = true }
        }
        var isStop = [Bool](repeating: false, count: 256)
        for byte in stopBytes {
            precondition(!used[Int(byte)], "a stop byte occurs in a pattern")
            isStop[Int(byte)] = true
        }
        let usedCount = used.lazy.filter { $0 }.count + isStop.lazy.filter { $0 }.count
        var byteClass = [UInt8](repeating: 0, count: 256)
        // Class 0 is for bytes in no pattern; when every byte value is used none is needed. Stop bytes take the last classes.
        var nextClass = usedCount < 256 ? 1 : 0
        for byte in 0..<256 where used[byte] {
            byteClass[byte] = UInt8(truncatingIfNeeded: nextClass)
            nextClass += 1
        }
        let stopClassStart = nextClass
        for byte in 0..<256 where isStop[byte] {
            byteClass[byte] = UInt8(truncatingIfNeeded: nextClass)
            nextClass += 1
        }
        let width = max(nextClass, 1)

        // The trie, sparse: children as sibling lists, since most nodes have one child.
        var firstChild: [Int32] = [-1]
        var nextSibling: [Int32] = [-1]
        var symbolOf: [UInt8] = [0]
        var depth: [UInt32] = [0]
        var matchLength: [UInt32] = [0]
        var endsPrefix: [Bool] = [false]
        var tailCharacters: [UInt8] = [0]
        var tailPadding: [UInt8] = [0]
        var headOf: [UInt8] = [0]
        func child(of node: Int, _ symbol: UInt8) -> Int? {
            var candidate = firstChild[node]
            while candidate >= 0 {
                if symbolOf[Int(candidate)] == symbol { return Int(candidate) }
                candidate = nextSibling[Int(candidate)]
            }
            return nil
        }
        func insert(_ pattern: [UInt8], isPrefix: Bool, tail: (characters: UInt8, padding: UInt8) = (0, 0), patternHead: UInt8 = 0) {
            var node = 0
            for byte in pattern {
                let symbol = byteClass[Int(byte)]
                if let next = child(of: node, symbol) {
                    node = next
                    continue
                }
                let next = depth.count
                firstChild.append(-1)
                nextSibling.append(firstChild[node])
                symbolOf.append(symbol)
                depth.append(depth[node] + 1)
                matchLength.append(0)
                endsPrefix.append(false)
                tailCharacters.append(0)
                tailPadding.append(0)
                headOf.append(0)
                firstChild[node] = Int32(next)
                node = next
            }
            if isPrefix {
                endsPrefix[node] = true
            } else {
                matchLength[node] = UInt32(pattern.count)
                tailCharacters[node] = max(tailCharacters[node], tail.characters)
                tailPadding[node] = max(tailPadding[node], tail.padding)
                headOf[node] = max(headOf[node], patternHead)
            }
        }
        for (index, pattern) in patterns.enumerated() { insert(pattern, isPrefix: false, tail: tails[index], patternHead: heads[index]) }
        for prefix in prefixes { insert(prefix, isPrefix: true) }
        // The stop state: a childless node outside the trie, special so the hot loop breaks on it.
        let stopNode = depth.count
        firstChild.append(-1)
        nextSibling.append(-1)
        symbolOf.append(0)
        depth.append(0)
        matchLength.append(0)
        endsPrefix.append(false)
        tailCharacters.append(0)
        tailPadding.append(0)
        headOf.append(0)
        let count = depth.count
        precondition(count * width < Int(UInt32.max), "masking automaton too large")

        // Breadth-first failure links: a node's failure target is shallower, so it is final when needed.
        var fail = [Int](repeating: 0, count: count)
        var order = [0]
        order.reserveCapacity(count)
        var head = 0
        while head < order.count {
            let node = order[head]
            head += 1
            var next = firstChild[node]
            while next >= 0 {
                let childNode = Int(next)
                let symbol = symbolOf[childNode]
                var target = 0
                if node != 0 {
                    var candidate = fail[node]
                    while true {
                        if let found = child(of: candidate, symbol) {
                            target = found
                            break
                        }
                        if candidate == 0 { break }
                        candidate = fail[candidate]
                    }
                }
                fail[childNode] = target
                // Every pattern that is a suffix of this one also ends here; the longest covers them all (and the head
                // characters of a shorter one, which lie inside it), so the head is the longest one's.
                if matchLength[childNode] == 0 { headOf[childNode] = headOf[target] }
                matchLength[childNode] = max(matchLength[childNode], matchLength[target])
                endsPrefix[childNode] = endsPrefix[childNode] || endsPrefix[target]
                tailCharacters[childNode] = max(tailCharacters[childNode], tailCharacters[target])
                tailPadding[childNode] = max(tailPadding[childNode], tailPadding[target])
                order.append(childNode)
                next = nextSibling[childNode]
            }
        }

        order.append(stopNode)
        func isSpecial(_ node: Int) -> Bool { matchLength[node] > 0 || endsPrefix[node] || node == stopNode }
        var renumbered = [UInt32](repeating: 0, count: count)
        var nextID: UInt32 = 0
        for node in order where !isSpecial(node) {
            renumbered[node] = nextID
            nextID += 1
        }
        let firstSpecial = nextID
        for node in order where isSpecial(node) {
            renumbered[node] = nextID
            nextID += 1
        }

        // Dense rows in breadth-first order: a row is its failure target's row (already complete)
        // with the node's own children written over it.
        var table = [UInt32](repeating: 0, count: count * width)
        table.withUnsafeMutableBufferPointer { table in
            let base = table.baseAddress!
            for node in order {
                let row = Int(renumbered[node]) * width
                if node != 0 {
                    (base + row).update(from: base + Int(renumbered[fail[node]]) * width, count: width)
                }
                var next = firstChild[node]
                while next >= 0 {
                    table[row + Int(symbolOf[Int(next)])] = renumbered[Int(next)] * UInt32(width)
                    next = nextSibling[Int(next)]
                }
                for symbol in stopClassStart..<width { table[row + symbol] = renumbered[stopNode] * UInt32(width) }
            }
        }
        var finalDepth = [UInt32](repeating: 0, count: count)
        var finalMatchLength = [UInt32](repeating: 0, count: count - Int(firstSpecial))
        var finalEndsPrefix = [Bool](repeating: false, count: count - Int(firstSpecial))
        var finalTailCharacters = [UInt8](repeating: 0, count: count - Int(firstSpecial))
        var finalTailPadding = [UInt8](repeating: 0, count: count - Int(firstSpecial))
        var finalHead = [UInt8](repeating: 0, count: count - Int(firstSpecial))
        for node in 0..<count {
            let id = Int(renumbered[node])
            finalDepth[id] = depth[node]
            if id >= Int(firstSpecial) {
                finalMatchLength[id - Int(firstSpecial)] = matchLength[node]
                finalEndsPrefix[id - Int(firstSpecial)] = endsPrefix[node]
                finalTailCharacters[id - Int(firstSpecial)] = tailCharacters[node]
                finalTailPadding[id - Int(firstSpecial)] = tailPadding[node]
                finalHead[id - Int(firstSpecial)] = headOf[node]
            }
        }
        self.byteClass = byteClass
        self.classCount = width
        self.table = table
        self.firstSpecialOffset = firstSpecial * UInt32(width)
        self.depth = finalDepth
        self.matchLength = finalMatchLength
        self.endsPrefix = finalEndsPrefix
        self.tailCharacters = finalTailCharacters
        self.tailPadding = finalTailPadding
        self.head = finalHead
        self.maximumHead = heads.max() ?? 0
        self.stopOffset = renumbered[stopNode] * UInt32(width)
        self.stateCount = count
        self.longestPattern = (patterns + prefixes).map(\.count).max() ?? 0
    }
}
