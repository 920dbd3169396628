import NIOCore
import NIOPosix

/// A child's standard output read on an event loop: waiting for the child holds no thread.
///
/// Blocking `read(2)` on a shared pool let a client that sends its request body slowly (git waits for it, we wait for git)
/// hold a pool thread for as long as it liked; sixteen such clients stopped every git operation of the server.
final class PipeReader: Sendable {
    private let channel: any Channel
    private let handler: NIOLoopBound<Handler>

    /// Takes ownership of `descriptor` (the read end of a pipe); NIO closes it with the channel.
    static func open(_ descriptor: CInt) async throws -> PipeReader {
        let loop = MultiThreadedEventLoopGroup.singleton.next()
        // The handler is in the pipeline before the channel is registered: a child that has already written everything and
        // exited is seen at once (hang-up), and NIO then delivers what the pipe holds to it before closing.
        let handler = try await loop.submit { NIOLoopBound(Handler(eventLoop: loop), eventLoop: loop) }.get()
        let channel = try await NIOPipeBootstrap(group: loop)
            .channelOption(.autoRead, value: false)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture { try channel.pipeline.syncOperations.addHandler(handler.value) }
            }
            .takingOwnershipOfDescriptor(input: descriptor).get()
        return PipeReader(channel: channel, handler: handler)
    }

    private init(channel: any Channel, handler: NIOLoopBound<Handler>) {
        self.channel = channel
        self.handler = handler
    }

    /// A reader dropped unread (a HEAD request, a response body never written) closes its end: the child's next write fails
    /// and it ends, instead of blocking on a full pipe for good.
    deinit {
        channel.close(promise: nil)
    }

    /// The next bytes the child wrote (empty after `interrupt()`), or nil once it closed its end.
    func read() async throws -> ByteBuffer? {
        let handler = handler
        return try await channel.eventLoop.flatSubmit { handler.value.next() }.get()
    }

    /// Makes the pending (or next) `read` return an empty buffer at once: whoever waits for output learns to look again.
    func interrupt() {
        let handler = handler
        channel.eventLoop.execute { handler.value.interrupt() }
    }

    /// Stops reading; the child's next write to a full pipe fails instead of waiting.
    func close() {
        channel.close(promise: nil)
    }

    /// Delivers one read at a time, asked for only when the previous one was taken (back-pressure on the child).
    private final class Handler: ChannelInboundHandler {
        typealias InboundIn = ByteBuffer

        private let eventLoop: any EventLoop
        private var context: ChannelHandlerContext?
        private var buffered: [ByteBuffer] = []
        private var ended = false
        private var failure: (any Error)?
        private var waiter: EventLoopPromise<ByteBuffer?>?
        private var interrupted = false

        init(eventLoop: any EventLoop) { self.eventLoop = eventLoop }

        func handlerAdded(context: ChannelHandlerContext) { self.context = context }
        func handlerRemoved(context: ChannelHandlerContext) { self.context = nil }

        func next() -> EventLoopFuture<ByteBuffer?> {
            if !buffered.isEmpty { return eventLoop.makeSucceededFuture(buffered.removeFirst()) }
            if let failure { return eventLoop.makeFailedFuture(failure) }
            if interrupted {
                interrupted = false
                return eventLoop.makeSucceededFuture(ByteBuffer())
            }
            guard !ended, let context else { return eventLoop.makeSucceededFuture(nil) }
            let promise = waiter ?? eventLoop.makePromise(of: ByteBuffer?.self)
            waiter = promise
            context.read()
            return promise.futureResult
        }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            let bytes = unwrapInboundIn(data)
            if let waiter {
                self.waiter = nil
                waiter.succeed(bytes)
            } else {
                buffered.append(bytes)
            }
        }

        func channelInactive(context: ChannelHandlerContext) { end() }

        func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
            if case ChannelEvent.inputClosed = event { end() } else { context.fireUserInboundEventTriggered(event) }
        }

        func errorCaught(context: ChannelHandlerContext, error: any Error) {
            failure = error
            waiter?.fail(error)
            waiter = nil
            context.close(promise: nil)
        }

        func interrupt() {
            if let waiter {
                self.waiter = nil
                waiter.succeed(ByteBuffer())
            } else {
                interrupted = true
            }
        }

        private func end() {
            ended = true
            waiter?.succeed(nil)
            waiter = nil
        }
    }
}

/// A child's standard input written on an event loop: a child that reads slowly holds no thread.
final class PipeWriter: Sendable {
    private let channel: any Channel

    /// Takes ownership of `descriptor` (the write end of a pipe); NIO closes it with the channel.
    static func open(_ descriptor: CInt) async throws -> PipeWriter {
        PipeWriter(channel: try await NIOPipeBootstrap(group: MultiThreadedEventLoopGroup.singleton).takingOwnershipOfDescriptor(output: descriptor).get())
    }

    private init(channel: any Channel) {
        self.channel = channel
    }

    deinit {
        channel.close(promise: nil)
    }

    /// Writes `bytes`, returning once the pipe took them; false once the child closed its end (it has what it wants).
    func write(_ bytes: ByteBuffer) async throws -> Bool {
        do {
            try await channel.writeAndFlush(bytes).get()
            return true
        } catch let error as IOError where error.errnoCode == EPIPE {
            return false
        } catch ChannelError.ioOnClosedChannel, ChannelError.alreadyClosed, ChannelError.outputClosed {
            return false
        }
    }

    /// Closes the pipe, so the child reads end of file.
    func close() async {
        try? await channel.close()
    }
}
