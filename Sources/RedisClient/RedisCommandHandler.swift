import NIOCore

/// Encoded commands on their way to the socket, and where their replies go.
struct RedisRequest: Sendable {
    /// One or more commands, already in RESP form.
    var bytes: ByteBuffer
    /// How many replies belong to this request (one per command).
    var replyCount: Int
    var promise: EventLoopPromise<[RESPFrame]>
}

/// Matches replies to requests. Redis answers commands on a connection strictly in order, so
/// the handler keeps a FIFO of waiting requests: each reply goes to the oldest one, which
/// completes once it has all of its replies. Everything here runs on the channel's event loop.
final class RedisCommandHandler: ChannelDuplexHandler {
    typealias InboundIn = RESPFrame
    typealias OutboundIn = RedisRequest
    typealias OutboundOut = ByteBuffer

    private struct Waiting {
        var promise: EventLoopPromise<[RESPFrame]>
        var replyCount: Int
    }

    private var waiting = CircularBuffer<Waiting>()
    /// Replies collected so far for the oldest waiting request. Kept out of `waiting` because
    /// CircularBuffer's subscript has no in-place modify: appending through it would copy the
    /// array on every reply, quadratic in the pipeline depth.
    private var headReplies: [RESPFrame] = []
    /// Set once the connection is unusable; later writes fail with it instead of queueing replies
    /// that will never come.
    private var failure: RedisError?

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        let request = unwrapOutboundIn(data)
        if let failure {
            request.promise.fail(failure)
            promise?.fail(failure)
            return
        }
        waiting.append(Waiting(promise: request.promise, replyCount: request.replyCount))
        context.write(wrapOutboundOut(request.bytes), promise: promise)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let reply = unwrapInboundIn(data)
        guard let head = waiting.first else {
            fail(
                RedisError(code: .protocolError, message: "reply received while no command was waiting"),
                context: context)
            return
        }
        if headReplies.isEmpty { headReplies.reserveCapacity(head.replyCount) }
        headReplies.append(reply)
        if headReplies.count == head.replyCount {
            waiting.removeFirst()
            let replies = headReplies
            headReplies = []
            head.promise.succeed(replies)
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        failWaiting(
            failure ?? RedisError(code: .connectionClosed, message: "connection closed before the reply arrived")
        )
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        let redisError =
            error as? RedisError
            ?? RedisError(code: .connectionClosed, message: "connection failed: \(String(describing: error))")
        fail(redisError, context: context)
    }

    private func fail(_ error: RedisError, context: ChannelHandlerContext) {
        failWaiting(error)
        context.close(promise: nil)
    }

    private func failWaiting(_ error: RedisError) {
        if failure == nil { failure = error }
        headReplies = []
        while let next = waiting.popFirst() {
            next.promise.fail(error)
        }
    }
}
