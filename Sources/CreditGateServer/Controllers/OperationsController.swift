import Foundation
import Hummingbird

/// `/healthz` (the process answers), `/readyz` (the database answers and its schema is current) and `/metrics`.
struct OperationsController {
    let status: SystemStatusService
    let metrics: MetricsExporter

    func addRoutes(to router: Router<AppRequestContext>) {
        router.get("healthz", use: health)
        router.get("readyz", use: ready)
        router.get("metrics", use: prometheus)
    }

    @Sendable func health(_ request: Request, context: AppRequestContext) async throws -> HealthResponse {
        HealthResponse(status: "ok")
    }

    @Sendable func ready(_ request: Request, context: AppRequestContext) async throws -> EditedResponse<ReadinessResponse> {
        let current = await status.current()
        let body = ReadinessResponse(
            status: current.isReady ? "ready" : "not_ready",
            database: current.databaseReachable ? "reachable" : "unreachable",
            auditLog: current.auditLogHealthy ? "writable" : "unavailable",
            migrationsApplied: current.migrations?.appliedVersion ?? 0,
            migrationsExpected: current.migrations?.expectedVersion ?? 0
        )
        var headers: HTTPFields = [:]
        if !current.isReady { headers[.retryAfter] = "5" }
        return EditedResponse(status: current.isReady ? .ok : .serviceUnavailable, headers: headers, response: body)
    }

    @Sendable func prometheus(_ request: Request, context: AppRequestContext) async throws -> Response {
        Response(status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                 body: .init(byteBuffer: ByteBuffer(bytes: metrics.render())))
    }
}
