import CreditGateCore
import Foundation
import Hummingbird

/// What every console form does with a refusal.
enum ConsoleForms {
    /// Runs a form's action. A refusal the person can act on (a 4xx) is shown on the page the form came from, with
    /// the refusal's status; with `keepNotFound` a 404 stays the plain 404 page, so that nothing outside the
    /// reader's scope is shown.
    static func submitting(_ context: AppRequestContext, keepNotFound: Bool = false, _ action: () async throws -> Response,
                           showingRefusalOn page: ([String: Any], HTTPResponse.Status) async throws -> Response) async throws -> Response {
        do {
            return try await action()
        } catch let error as CreditGateError where error.kind.status < 500 && !(keepNotFound && error.kind == .notFound) {
            return try await page(["error": Localizer(context.language)(error.detailKey ?? error.kind.titleKey)], .init(code: error.kind.status))
        }
    }
}
