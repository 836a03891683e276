import Foundation

/// The bundled list of common passwords (`Resources/security/common-passwords.txt`), read once.
enum CommonPasswords {
    static func bundled() throws -> Set<String> {
        let text = String(decoding: try BundledResources.data("security/common-passwords.txt"), as: UTF8.self)
        return Set(text.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces).lowercased() }.filter { !$0.isEmpty && !$0.hasPrefix("#") })
    }
}
