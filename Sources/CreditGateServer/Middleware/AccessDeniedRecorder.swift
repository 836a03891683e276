import CreditGateCore
import Foundation
import Hummingbird

/// Records every request a signed-in user was refused (403) as an `access.denied` audit event: who tried what,
/// from where. If the log cannot take the event the answer becomes 503, as for any audited operation.
struct AccessDeniedRecorder: RouterMiddleware {
    typealias Context = AppRequestContext
    let audit: AuditTrail
    let problems: ProblemRenderer
    let clock: @Sendable () -> Date

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let response = try await next(request, context)
        guard response.status == .forbidden, let identity = context.identity else { return response }
        do {
            try await audit.record(AuditEvent(
                kind: .accessDenied, occurredAt: clock(), actor: .init(identity.user), clientIP: context.clientIP, outcome: .denied,
                reasonCodes: ["forbidden"], details: ["route": context.endpointPath ?? "unmatched", "method": request.method.rawValue]
            ))
            return response
        } catch {
            return problems.response(for: error, request: request, context: context)
        }
    }
}
