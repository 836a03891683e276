import CreditGateCore
import CreditGateStore
import Foundation
import Hummingbird
import Logging

/// Turns every error into the answer a user can act on: RFC 9457 `application/problem+json` for the API and
/// operations endpoints, an error page with the real status for the console.
///
/// The error's cause goes to the log with the request ID; the body never contains `"\(error)"`.
struct ErrorMiddleware: RouterMiddleware {
    typealias Context = AppRequestContext
    let renderer: ProblemRenderer

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch {
            return renderer.response(for: error, request: request, context: context)
        }
    }
}

/// Maps errors to problem kinds and renders them; shared by ``ErrorMiddleware`` and the session middleware.
struct ProblemRenderer: Sendable {
    let console: ConsoleRenderer

    /// What an error means to the client. Unknown errors are internal errors.
    static func classify(_ error: any Error) -> (kind: ProblemKind, detailKey: String?) {
        switch error {
        case let error as CreditGateError:
            return (error.kind, error.detailKey)
        case let error as any HTTPResponseError:
            switch error.status {
            case .notFound: return (.notFound, "detail_not_found")
            case .contentTooLarge: return (.payloadTooLarge, "detail_payload_too_large")
            case .unsupportedMediaType: return (.unsupportedMediaType, "detail_unsupported_media_type")
            case .methodNotAllowed: return (.methodNotAllowed, nil)
            case .unauthorized: return (.unauthenticated, "detail_sign_in_required")
            case .forbidden: return (.forbidden, "detail_forbidden")
            case .badRequest: return (.badRequest, nil)
            default:
                if (400..<500).contains(error.status.code) { return (.badRequest, nil) }
                return (.internalError, "detail_internal_error")
            }
        case is DecodingError:
            return (.malformedJSON, "detail_malformed_json")
        case AuditLogProofs.Failure.missingNode:
            return (.serviceUnavailable, "detail_log_damaged")
        case let error where DatabaseAvailability.isTransient(error):
            return (.serviceUnavailable, "detail_database_unavailable")
        default:
            return (.internalError, "detail_internal_error")
        }
    }

    func response(for error: any Error, request: Request, context: AppRequestContext) -> Response {
        let (kind, detailKey) = Self.classify(error)
        log(error, kind: kind, context: context)
        if request.uri.path.hasPrefix("/console") {
            return console.errorPage(kind: kind, detailKey: detailKey, context: context)
        }
        return Self.problemResponse(kind: kind, detailKey: detailKey, language: context.language, requestID: context.requestID,
                                    extensions: (error as? CreditGateError)?.extensions ?? [:])
    }

    private func log(_ error: any Error, kind: ProblemKind, context: AppRequestContext) {
        let cause: String
        if let error = error as? CreditGateError { cause = error.cause ?? kind.code } else { cause = String(reflecting: type(of: error)) }
        if kind.status >= 500 {
            context.logger.error("request failed", metadata: ["problem": .string(kind.code), "cause": .string(cause)])
        } else {
            context.logger.notice("request refused", metadata: ["problem": .string(kind.code), "cause": .string(cause)])
        }
    }

    /// An RFC 9457 body: `type`, `title` (in the negotiated language), `status`, `detail`, and the extensions
    /// `titles` (both languages) and `requestId`.
    static func problemResponse(kind: ProblemKind, detailKey: String?, language: Language, requestID: String,
                                extensions: [String: Any] = [:]) -> Response {
        let local = Localizer(language)
        var body: [String: Any] = [
            "type": kind.typeURI,
            "title": local(kind.titleKey),
            "status": kind.status,
            "titles": [
                Language.zhCN.rawValue: Localizer(.zhCN)(kind.titleKey),
                Language.en.rawValue: Localizer(.en)(kind.titleKey),
            ],
            "requestId": requestID,
        ]
        if let detailKey { body["detail"] = local(detailKey) }
        body.merge(extensions) { standard, _ in standard }
        let data = (try? JSONSerialization.data(withJSONObject: body, options: [.sortedKeys])) ?? Data("{}".utf8)
        var headers: HTTPFields = [.contentType: "application/problem+json; charset=utf-8", .contentLanguage: language.rawValue]
        if kind.status == 503 { headers[.retryAfter] = "5" }
        if kind.status == 401 { headers[.wwwAuthenticate] = "Bearer realm=\"creditgate\"" }
        return Response(status: .init(code: kind.status), headers: headers, body: .init(byteBuffer: ByteBuffer(data: data)))
    }
}
