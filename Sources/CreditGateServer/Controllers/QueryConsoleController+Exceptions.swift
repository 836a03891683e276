import CreditGateCore
import Foundation
import Hummingbird

/// 授权查询 in the console: the loan officer asks from the refused query's decision, sees the outcome appear in
/// "my requests" and queries under the approval; the approver's queue fills without reloading.
extension QueryConsoleController {
    /// How often the live queue looks for changes: a new request shows within this time.
    static let liveInterval = Duration.seconds(2)
    /// How long one stream lasts before the browser reconnects.
    static let liveStreamLifetime = Duration.seconds(60)

    static func exceptionRow(_ exception: PolicyException, at time: Date, _ local: Localizer) -> [String: Any] {
        let state = exception.state(at: time)
        var row: [String: Any] = [
            "id": exception.id.rawValue, "name": exception.subjectName, "number": Masking.identifier(exception.subject.number),
            "purpose": "\(exception.purpose.code) \(local(exception.purpose.nameKey))",
            "reasons": exception.reasons.map { $0.message(in: local.language) }, "risks": exception.risks.map { local($0.nameKey) },
            "onSite": exception.requiresOnSiteVerification, "justification": exception.justification,
            "status": local("exception_status_\(state)"), "statusCode": state, "requestedAt": ConsolePages.time(exception.requestedAt, local),
            "lapsesAt": ConsolePages.time(exception.lapsesAt, local), "usable": state == PolicyException.Status.approved.rawValue,
        ]
        // Present only when there is one: to the template an empty string is still something to show.
        if let note = exception.decisionNote { row["note"] = note }
        if let onSite = exception.onSiteVerification { row["onSiteNote"] = onSite }
        if state == PolicyException.Status.approved.rawValue, let expiresAt = exception.expiresAt { row["expiresAt"] = ConsolePages.time(expiresAt, local) }
        return row
    }

    @Sendable func requestException(_ request: Request, context: AppRequestContext) async throws -> Response {
        var request = request
        let form = try await FormBody.parse(&request, context: context)
        return try await ConsoleForms.submitting(context, {
            _ = try await exceptions.request(fromHeld: try RequestValues.formID(form["queryId"]), justification: form["justification"] ?? "",
                                             by: try context.requireIdentity(), clientIP: context.clientIP)
            return try await queriesPage(context: context, extra: ["exceptionRequested": Localizer(context.language)("exception_requested_done")],
                                         status: .created)
        }, showingRefusalOn: { try await queriesPage(context: context, extra: $0, status: $1) })
    }

    /// Makes the query an approval was given for, exactly as it was asked.
    @Sendable func queryUnderException(_ request: Request, context: AppRequestContext) async throws -> Response {
        var request = request
        _ = try await FormBody.parse(&request, context: context)
        let identity = try context.requireIdentity()
        let exception = try await exceptions.exception(try QueryAPIController.id(context), for: identity)
        guard exception.requestedBy == identity.user.id else {
            throw CreditGateError(.notFound, detailKey: "detail_not_found", cause: "exception of another user")
        }
        return try await runShowing(QueryService.Request(
            certificateType: exception.subject.type.rawValue, certificateNumber: exception.subject.number, subjectName: exception.subjectName,
            purpose: exception.purpose.code, consentID: exception.consentID?.rawValue, channel: .console, exceptionID: exception.id.rawValue
        ), context: context)
    }

    @Sendable func exceptionsPage(_ request: Request, context: AppRequestContext) async throws -> Response {
        try await exceptionsPage(context: context, extra: [:], status: .ok)
    }

    func exceptionsPage(context: AppRequestContext, extra: [String: Any], status: HTTPResponse.Status) async throws -> Response {
        let local = Localizer(context.language)
        let now = clock()
        let toReview = try await exceptions.exceptions(for: try context.requireIdentity()).toReview
        let requesters = try await exceptions.requesterNames(of: toReview)
        func row(_ exception: PolicyException) -> [String: Any] {
            Self.exceptionRow(exception, at: now, local).merging(["requester": requesters[exception.requestedBy] ?? exception.requestedBy.rawValue]) { $1 }
        }
        var page: [String: Any] = [
            "pending": toReview.filter { $0.state(at: now) == PolicyException.Status.pending.rawValue }.map(row),
            "decided": toReview.filter { $0.state(at: now) != PolicyException.Status.pending.rawValue }.prefix(50).map(row),
        ]
        page.merge(extra) { _, new in new }
        return renderer.page("exceptions", titleKey: "exceptions_title", context: context, page: page, status: status)
    }

    @Sendable func decideException(_ request: Request, context: AppRequestContext) async throws -> Response {
        var request = request
        let form = try await FormBody.parse(&request, context: context)
        return try await ConsoleForms.submitting(context, keepNotFound: true, {
            guard let decision = form["decision"], ["approve", "refuse"].contains(decision) else {
                throw CreditGateError(.validationFailed, detailKey: "detail_bad_request_form", cause: "unknown decision")
            }
            _ = try await exceptions.decide(try QueryAPIController.id(context), approve: decision == "approve", note: form["note"] ?? "",
                                            onSite: form["onSiteVerification"] ?? "", by: try context.requireIdentity(), clientIP: context.clientIP)
            return try await exceptionsPage(context: context, extra: ["done": Localizer(context.language)("exception_decided_done")], status: .ok)
        }, showingRefusalOn: { try await exceptionsPage(context: context, extra: $0, status: $1) })
    }

    /// Server-sent events: `changed` whenever a request the viewer sees is made, changes state, lapses or expires.
    /// The stream carries no content — the page fetches itself again, through the same checks as any page. It does
    /// not count as the viewer's activity, ends as soon as the session does (checked at every look), and after a
    /// minute in any case; the browser then reconnects. A session holds at most a few streams at once.
    @Sendable func exceptionEvents(_ request: Request, context: AppRequestContext) async throws -> Response {
        let identity = try context.requireIdentity()
        let tokenHash = identity.session.tokenHash
        guard await liveStreams.open(tokenHash) else {
            throw CreditGateError(.tooManyRequests, detailKey: "live_too_many", cause: "too many live streams for one session")
        }
        let watch: PolicyExceptionService.Watch
        let first: String
        do {
            watch = try await exceptions.watch(for: identity)
            first = try await watch.version()
        } catch {
            await liveStreams.close(tokenHash)
            throw error
        }
        let interval = Self.liveInterval
        let authentication = self.authentication
        let streams = liveStreams
        return Response(status: .ok, headers: [.contentType: "text/event-stream; charset=utf-8", .cacheControl: "no-store"], body: ResponseBody { writer in
            do {
                try await writer.write(ByteBuffer(string: "retry: 5000\n\n"))
                var seen = first
                let started = ContinuousClock.now
                var quiet = Duration.zero
                while ContinuousClock.now - started < Self.liveStreamLifetime, !Task.isCancelled {
                    try await Task.sleep(for: interval)
                    guard try await authentication.sessionIsLive(tokenHash: tokenHash) else { break }
                    let current = try await watch.version()
                    if current != seen {
                        seen = current
                        quiet = .zero
                        try await writer.write(ByteBuffer(string: "event: changed\ndata: \(current)\n\n"))
                    } else {
                        quiet += interval
                        // A comment now and then keeps proxies from closing a quiet stream.
                        if quiet >= .seconds(20) {
                            quiet = .zero
                            try await writer.write(ByteBuffer(string: ": quiet\n\n"))
                        }
                    }
                }
                await streams.close(tokenHash)
                try await writer.finish(nil)
            } catch {
                await streams.close(tokenHash)
                throw error
            }
        })
    }
}

/// How many live streams each session has open, so that one session cannot open them without end.
actor LiveStreams {
    static let perSession = 3
    private var open: [String: Int] = [:]

    func open(_ session: String) -> Bool {
        guard open[session, default: 0] < Self.perSession else { return false }
        open[session, default: 0] += 1
        return true
    }

    func close(_ session: String) {
        open[session, default: 1] -= 1
        if open[session] ?? 0 <= 0 { open[session] = nil }
    }
}
