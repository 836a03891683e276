import CreditGateCore
import Foundation
import Hummingbird

/// Reads a JSON request body with the checks every endpoint needs: the media type, the size limit, then the
/// shape. Each failure is a distinct 4xx problem, never a 500.
enum JSONBody {
    static func decode<T: Decodable>(_ type: T.Type, from request: Request, context: AppRequestContext) async throws -> T {
        let contentType = request.headers[.contentType]?.lowercased() ?? ""
        guard contentType.hasPrefix("application/json") else {
            throw CreditGateError(.unsupportedMediaType, detailKey: "detail_unsupported_media_type", cause: "content type \(contentType)")
        }
        var request = request
        let buffer = try await request.collectBody(upTo: context.maxUploadSize)
        do {
            return try JSONDecoder().decode(T.self, from: Data(buffer: buffer))
        } catch {
            throw CreditGateError(.malformedJSON, detailKey: "detail_malformed_json", cause: "JSON body does not decode")
        }
    }
}
