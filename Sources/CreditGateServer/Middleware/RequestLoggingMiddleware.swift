import CreditGateCore
import Crypto
import Foundation
import HTTPTypes
import Hummingbird
import Logging

/// Gives every request an ID, puts it in the logger and the `X-Request-ID` header, resolves the client address
/// (believing `X-Forwarded-For` only from trusted proxies), and writes one structured log line per request.
///
/// The line carries the route pattern, never the raw path or query (which may hold identifiers), and the client
/// address masked.
struct RequestLoggingMiddleware: RouterMiddleware {
    typealias Context = AppRequestContext
    let trustedProxies: [NetworkCIDR]
    let bodyLimit: Int
    /// The larger limit of the routes that take a scanned document, and those routes' paths. Set here, before any
    /// middleware reads a body, because the console's CSRF check reads the form first; the context grants it only
    /// once the session shows a person allowed to upload.
    var uploadLimit: Int = 0
    var uploadPaths: Set<String> = []

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        var context = context
        let requestID = Hex.encode(SHA256.hash(data: Data(UUID().uuidString.utf8)).prefix(8))
        context.requestID = requestID
        context.logger[metadataKey: "request_id"] = .string(requestID)
        context.clientIP = ClientAddress.resolve(
            peer: context.peerAddress,
            forwardedFor: request.headers[values: .xForwardedFor],
            trustedProxies: trustedProxies
        )
        context.bodyLimit = bodyLimit
        if request.method == .post, uploadPaths.contains(request.uri.path) { context.documentUploadLimit = uploadLimit }
        let started = ContinuousClock.now
        var response: Response
        if Self.isCanonical(request.uri.path) {
            response = try await next(request, context)
        } else {
            // The router would read `//console/x` as `/console/x` while every prefix check saw something else:
            // such paths are refused before anything looks at them.
            response = ProblemRenderer.problemResponse(kind: .notFound, detailKey: "detail_not_found",
                                                       language: Language.negotiate(acceptLanguage: request.headers[.acceptLanguage]) ?? .fallback,
                                                       requestID: requestID)
        }
        response.headers[.xRequestID] = requestID
        let elapsed = ContinuousClock.now - started
        context.logger.info("request", metadata: [
            "method": .string(request.method.rawValue),
            "route": .string(context.endpointPath ?? "unmatched"),
            "status": .stringConvertible(response.status.code),
            "duration_ms": .stringConvertible((Double(elapsed.components.attoseconds) / 1e15 + Double(elapsed.components.seconds) * 1000).rounded()),
            "client": .string(Masking.ipAddress(context.clientIP)),
        ])
        return response
    }
}

extension RequestLoggingMiddleware {
    /// `true` for an absolute path without empty, `.` or `..` segments (a trailing slash is allowed).
    static func isCanonical(_ path: String) -> Bool {
        guard path.hasPrefix("/") else { return false }
        let segments = path.dropFirst().split(separator: "/", omittingEmptySubsequences: false)
        for (position, segment) in segments.enumerated() {
            if segment == "." || segment == ".." { return false }
            if segment.isEmpty && position != segments.count - 1 { return false }
        }
        return true
    }
}

/// Works out who the client is when reverse proxies stand in front of CreditGate.
enum ClientAddress {
    /// Walks `X-Forwarded-For` from the right, skipping trusted proxies, and returns the first untrusted address;
    /// with no trusted peer the socket's own peer is the client. Unknown peers give `"unknown"`.
    static func resolve(peer: String?, forwardedFor: [String], trustedProxies: [NetworkCIDR]) -> String {
        guard let peer else { return "unknown" }
        func trusted(_ address: String) -> Bool { trustedProxies.contains { $0.contains(address) } }
        guard trusted(peer) else { return peer }
        let chain = forwardedFor.flatMap { $0.split(separator: ",") }.map { $0.trimmingCharacters(in: .whitespaces) }
        for address in chain.reversed() where !trusted(address) {
            return IPAddress.parse(address) != nil ? address : "unknown"
        }
        return peer
    }
}

extension HTTPField.Name {
    static let xRequestID = Self("X-Request-ID")!
    static let xForwardedFor = Self("X-Forwarded-For")!
}
