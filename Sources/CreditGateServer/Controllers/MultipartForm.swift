import CreditGateCore
import Foundation

/// A file sent in a `multipart/form-data` form.
struct UploadedFile: Sendable {
    /// The name the sender gave; kept for reference only, never trusted for the type.
    let fileName: String
    let bytes: Data
}

/// Reads `multipart/form-data` bodies (RFC 7578): the scanned consent comes this way from the console's file input
/// and from API clients. Only what a form needs: named text fields and files; nested multiparts are refused.
enum MultipartForm {
    static func parse(_ body: Data, contentType: String) throws -> FormBody.Form {
        guard let boundary = boundary(of: contentType), !boundary.isEmpty, boundary.count <= 200 else {
            throw malformed("no boundary")
        }
        let delimiter = Data("--\(boundary)".utf8)
        let bytes = body
        var form = FormBody.Form()
        guard var cursor = bytes.range(of: delimiter)?.upperBound else { throw malformed("no first boundary") }
        while true {
            // After a boundary: `--` ends the body, CRLF starts a part.
            if bytes[cursor...].starts(with: Data("--".utf8)) { break }
            guard bytes[cursor...].starts(with: Data("\r\n".utf8)) else { throw malformed("boundary not followed by CRLF") }
            cursor += 2
            guard let headerEnd = bytes.range(of: Data("\r\n\r\n".utf8), in: cursor..<bytes.endIndex) else { throw malformed("part without headers") }
            let headers = String(decoding: bytes[cursor..<headerEnd.lowerBound], as: UTF8.self)
            let contentStart = headerEnd.upperBound
            guard let next = bytes.range(of: Data("\r\n".utf8) + delimiter, in: contentStart..<bytes.endIndex) else {
                throw malformed("part without closing boundary")
            }
            let content = bytes[contentStart..<next.lowerBound]
            cursor = next.upperBound
            guard let disposition = headers.split(separator: "\r\n").first(where: { $0.lowercased().hasPrefix("content-disposition:") }),
                  let name = parameter("name", in: String(disposition)), !name.isEmpty
            else { throw malformed("part without a name") }
            if let fileName = parameter("filename", in: String(disposition)) {
                if form.files[name] == nil { form.files[name] = UploadedFile(fileName: fileName, bytes: Data(content)) }
            } else {
                guard let value = String(data: Data(content), encoding: .utf8) else { throw malformed("field not UTF-8") }
                if form.fields[name] == nil { form.fields[name] = value }
                form.all[name, default: []].append(value)
            }
        }
        return form
    }

    static func boundary(of contentType: String) -> String? {
        parameter("boundary", in: contentType)
    }

    /// A `name=value` or `name="value"` parameter of a header value.
    static func parameter(_ name: String, in header: String) -> String? {
        for piece in header.split(separator: ";").dropFirst() {
            let parts = piece.split(separator: "=", maxSplits: 1)
            guard parts.count == 2, parts[0].trimmingCharacters(in: .whitespaces).lowercased() == name else { continue }
            var value = parts[1].trimmingCharacters(in: .whitespaces)
            if value.hasPrefix("\""), value.hasSuffix("\""), value.count >= 2 { value = String(value.dropFirst().dropLast()) }
            return value
        }
        return nil
    }

    private static func malformed(_ cause: String) -> CreditGateError {
        CreditGateError(.badRequest, detailKey: "detail_malformed_multipart", cause: "multipart: \(cause)")
    }
}
