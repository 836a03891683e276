import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix

/// One request of a load, encoded once before the clock starts.
public struct LoadRequest: Sendable {
    let head: HTTPRequestHead
    let body: ByteBuffer?

    /// A request to 127.0.0.1 with its body's length set: without it the encoder would send the body chunked.
    init(method: HTTPMethod, uri: String, headers: [(String, String)], body: String? = nil) {
        var fields = HTTPHeaders([("Host", "127.0.0.1")] + headers)
        let bytes = body.map { ByteBuffer(string: $0) }
        if let bytes { fields.replaceOrAdd(name: "Content-Length", value: String(bytes.readableBytes)) }
        self.head = HTTPRequestHead(version: .http1_1, method: method, uri: uri, headers: fields)
        self.body = bytes
    }
}

/// What one load measured: the answers with the expected status, everything else, and the latency of every request.
public struct LoadFigures: Sendable {
    public let clients: Int
    /// Answers with the expected status (201 for a query, 200 for the bare route).
    public let answered: Int
    /// Answers with any other status, and requests whose connection closed before the answer came.
    public let errors: Int
    /// How many answers came with each unexpected status.
    public let unexpectedStatuses: [Int: Int]
    /// The start of the first unexpected answer's body, to say what went wrong.
    public let firstUnexpectedBody: String?
    /// From the common start to the last answer.
    public let seconds: Double
    /// Every request's time from the first byte sent to the last byte received, sorted, in nanoseconds.
    let latencies: [Int64]

    /// Answers with the expected status per second.
    public var perSecond: Double { seconds > 0 ? Double(answered) / seconds : 0 }

    /// The latency below which a fraction `p` (0–1) of the requests fall, in milliseconds; 0 when nothing was sent.
    public func latencyMilliseconds(percentile p: Double) -> Double {
        guard !latencies.isEmpty else { return 0 }
        return Double(latencies[min(latencies.count - 1, Int(Double(latencies.count) * p))]) / 1e6
    }
}

/// A closed-loop HTTP/1.1 load, as `wrk` makes one: each client is one keep-alive connection that sends its next
/// request as soon as the answer to the previous one is complete, until the deadline. Every connection is opened
/// before the clock starts, and all start at once.
struct ClosedLoopLoad: Sendable {
    let port: Int
    /// Sent in turn; client `k` starts at the `k`-th, so that concurrent clients ask about different subjects.
    let requests: [LoadRequest]
    let expectedStatus: HTTPResponseStatus

    func run(clients: Int, duration: Duration, on group: any EventLoopGroup) async throws -> LoadFigures {
        precondition(clients > 0 && !requests.isEmpty)
        var connections: [(channel: any Channel, tally: EventLoopFuture<ClientTally>)] = []
        do {
            for client in 0..<clients {
                let loop = group.next()
                let finished = loop.makePromise(of: ClientTally.self)
                let (requests, expected) = (self.requests, expectedStatus)
                let channel = try await ClientBootstrap(group: loop)
                    .channelOption(.socketOption(.tcp_nodelay), value: 1)
                    .channelInitializer { channel in
                        channel.eventLoop.makeCompletedFuture {
                            try channel.pipeline.syncOperations.addHTTPClientHandlers()
                            try channel.pipeline.syncOperations.addHandler(ClosedLoopClient(
                                requests: requests, first: client, expected: expected, finished: finished
                            ))
                        }
                    }
                    .connect(host: "127.0.0.1", port: port).get()
                connections.append((channel, finished.futureResult))
            }
        } catch {
            for connection in connections { try? await connection.channel.close() }
            throw error
        }
        let started = NIODeadline.now()
        let deadline = started + .nanoseconds(Self.nanoseconds(duration))
        for connection in connections {
            connection.channel.pipeline.fireUserInboundEventTriggered(StartLoad(deadline: deadline))
        }
        var tallies: [ClientTally] = []
        for connection in connections {
            tallies.append(try await connection.tally.get())
        }
        let lastAnswer = tallies.compactMap(\.lastAnswerAt).max() ?? started
        var statuses: [Int: Int] = [:]
        for tally in tallies {
            statuses.merge(tally.unexpectedStatuses, uniquingKeysWith: +)
        }
        return LoadFigures(
            clients: clients, answered: tallies.reduce(0) { $0 + $1.answered }, errors: tallies.reduce(0) { $0 + $1.errors },
            unexpectedStatuses: statuses, firstUnexpectedBody: tallies.lazy.compactMap(\.firstUnexpectedBody).first,
            seconds: Double((lastAnswer - started).nanoseconds) / 1e9, latencies: tallies.flatMap(\.latencies).sorted()
        )
    }

    static func nanoseconds(_ duration: Duration) -> Int64 {
        duration.components.seconds * 1_000_000_000 + duration.components.attoseconds / 1_000_000_000
    }
}

/// Tells every connection of a load to send its first request; fired once all of them are open.
struct StartLoad: Sendable {
    let deadline: NIODeadline
}

/// What one connection saw.
struct ClientTally: Sendable {
    var answered = 0
    var errors = 0
    var unexpectedStatuses: [Int: Int] = [:]
    var firstUnexpectedBody: String?
    var latencies: [Int64] = []
    var lastAnswerAt: NIODeadline?
}

/// One client of a closed-loop load. Lives on its channel's event loop; hands its tally over when the connection
/// closes, which it does itself at the first answer after the deadline.
final class ClosedLoopClient: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPClientResponsePart
    typealias OutboundOut = HTTPClientRequestPart

    private let requests: [LoadRequest]
    private var position: Int
    private let expected: HTTPResponseStatus
    private let finished: EventLoopPromise<ClientTally>
    private var deadline: NIODeadline?
    private var sentAt = NIODeadline.now()
    private var status: HTTPResponseStatus = .ok
    private var unexpectedBody: ByteBuffer?
    private var awaitingAnswer = false
    private var tally = ClientTally()

    init(requests: [LoadRequest], first: Int, expected: HTTPResponseStatus, finished: EventLoopPromise<ClientTally>) {
        self.requests = requests
        self.position = first
        self.expected = expected
        self.finished = finished
        tally.latencies.reserveCapacity(16_384)
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        guard let start = event as? StartLoad else {
            context.fireUserInboundEventTriggered(event)
            return
        }
        deadline = start.deadline
        send(context: context)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            status = head.status
            if status != expected, tally.firstUnexpectedBody == nil { unexpectedBody = context.channel.allocator.buffer(capacity: 512) }
        case .body(var part):
            if unexpectedBody != nil { unexpectedBody?.writeBuffer(&part) }
        case .end:
            let now = NIODeadline.now()
            awaitingAnswer = false
            tally.latencies.append((now - sentAt).nanoseconds)
            tally.lastAnswerAt = now
            if status == expected {
                tally.answered += 1
            } else {
                tally.errors += 1
                tally.unexpectedStatuses[Int(status.code), default: 0] += 1
                if let body = unexpectedBody {
                    tally.firstUnexpectedBody = String(String(buffer: body).prefix(400))
                    unexpectedBody = nil
                }
            }
            if let deadline, now < deadline {
                send(context: context)
            } else {
                context.close(promise: nil)
            }
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        finish()
        context.fireChannelInactive()
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        finish()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }

    /// A request still waiting when the connection closes is an error: the server dropped it.
    private func finish() {
        if awaitingAnswer {
            tally.errors += 1
            awaitingAnswer = false
        }
        finished.succeed(tally)
    }

    private func send(context: ChannelHandlerContext) {
        let request = requests[position % requests.count]
        position += 1
        awaitingAnswer = true
        sentAt = .now()
        context.write(wrapOutboundOut(.head(request.head)), promise: nil)
        if let body = request.body {
            context.write(wrapOutboundOut(.body(.byteBuffer(body))), promise: nil)
        }
        context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
    }
}
