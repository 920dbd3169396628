import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A TCP connection driven by hand: bytes sent as given (a partial request head or body), the connection left open.
public final class RawConnection: @unchecked Sendable {
    // @unchecked: the descriptor is used by one test task at a time.
    public let socket: Int32

    /// Connects and sends `head` and `bodyPrefix`; `receiveBuffer` shrinks the socket's receive buffer (a client that reads nothing
    /// then holds back only that much).
    public init(port: Int, head: String = "", bodyPrefix: [UInt8] = [], receiveBuffer: Int32? = nil) throws {
        socket = Glibc.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        if var size = receiveBuffer { _ = setsockopt(socket, SOL_SOCKET, SO_RCVBUF, &size, socklen_t(MemoryLayout<Int32>.size)) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(socket, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0 }
        }
        guard connected else { throw RawConnectionError.cannotConnect(port) }
        let bytes = Array(head.utf8) + bodyPrefix
        var sent = 0
        while sent < bytes.count {
            let count = bytes[sent...].withUnsafeBytes { send(socket, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            guard count > 0 else { throw RawConnectionError.sendFailed }
            sent += count
        }
    }

    deinit { close(socket) }

    /// Whether the server has closed the connection (reads end of file or a reset within `milliseconds`); bytes it sent are skipped.
    public func isClosed(waiting milliseconds: Int32 = 100) -> Bool {
        var entry = pollfd(fd: socket, events: Int16(POLLIN), revents: 0)
        guard poll(&entry, 1, milliseconds) > 0 else { return false }
        var buffer = [UInt8](repeating: 0, count: 4096)
        let count = buffer.withUnsafeMutableBytes { recv(socket, $0.baseAddress, $0.count, Int32(MSG_DONTWAIT)) }
        return count == 0 || (count < 0 && errno != EAGAIN && errno != EINTR)
    }
}

/// Why a raw connection could not be made.
public enum RawConnectionError: Error {
    case cannotConnect(Int)
    case sendFailed
}
