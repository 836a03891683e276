import CreditGateCore
import CreditGateStore
import Foundation
import Hummingbird

/// The JSON API under `/api/v1`. Clients authenticate with `Authorization: Bearer <token>` from
/// `POST /api/v1/sessions`; cookies are not accepted here.
struct APIController {
    let authentication: AuthenticationService
    let directory: DirectoryService
    let sessionPolicy: SessionPolicy
    let openAPIDocument: Data

    func addRoutes(to group: RouterGroup<AppRequestContext>) {
        group.get("openapi.yaml", use: openAPI)
        group.get("version", use: version)
        group.post("sessions", use: signIn)
        group.group().add(middleware: RequireSession())
            .get("me", use: me)
            .delete("sessions/current", use: signOut)
    }

    @Sendable func openAPI(_ request: Request, context: AppRequestContext) async throws -> Response {
        Response(status: .ok, headers: [.contentType: "application/yaml; charset=utf-8"],
                 body: .init(byteBuffer: ByteBuffer(data: openAPIDocument)))
    }

    @Sendable func version(_ request: Request, context: AppRequestContext) async throws -> VersionResponse {
        VersionResponse(name: "CreditGate", version: CreditGateVersion.current)
    }

    @Sendable func signIn(_ request: Request, context: AppRequestContext) async throws -> EditedResponse<SessionResponse> {
        let body = try await JSONBody.decode(SignInRequest.self, from: request, context: context)
        let signIn = try await authentication.signIn(employeeID: body.employeeId, password: body.password, code: body.code, clientIP: context.clientIP)
        let response = SessionResponse(
            token: signIn.token, tokenType: "Bearer",
            expiresAt: signIn.session.createdAt.addingTimeInterval(sessionPolicy.absoluteLifetime),
            idleTimeoutSeconds: Int(sessionPolicy.idleTimeout), user: UserDTO(signIn.user),
            stage: signIn.session.stage.rawValue, endedSessions: signIn.endedOtherSessions
        )
        return EditedResponse(status: .created, response: response)
    }

    @Sendable func signOut(_ request: Request, context: AppRequestContext) async throws -> HTTPResponse.Status {
        try await authentication.signOut(try context.requireIdentity(), clientIP: context.clientIP)
        return .noContent
    }

    @Sendable func me(_ request: Request, context: AppRequestContext) async throws -> MeResponse {
        let identity = try context.requireIdentity()
        return MeResponse(
            user: UserDTO(identity.user),
            stage: identity.session.stage.rawValue,
            permissions: identity.permissions.map(\.rawValue).sorted(),
            sessionExpiresAt: identity.session.createdAt.addingTimeInterval(sessionPolicy.absoluteLifetime)
        )
    }
}

extension AppRequestContext {
    /// The signed-in user; routes reach here only behind ``RequirePermission``, so a missing identity is a 401.
    func requireIdentity() throws -> AuthenticatedUser {
        guard let identity else { throw CreditGateError(.unauthenticated, detailKey: "detail_sign_in_required") }
        return identity
    }
}
