import Foundation

/// For test harnesses: with `LATCHKEY_PARENT_PID` set, the server exits as soon as that process is gone.
enum ParentWatch {
    static func exitWhenParentDies() {
        guard let text = ProcessInfo.processInfo.environment["LATCHKEY_PARENT_PID"], let parent = Int32(text) else { return }
        let thread = Thread {
            while true {
                if getppid() != parent { exit(0) }
                Thread.sleep(forTimeInterval: 0.5)
            }
        }
        thread.start()
    }
}
