import Foundation
import Testing

@testable import CreditGateCore

/// `docs/ROLES.md` states the permission matrix; this keeps it true.
@Suite struct RolesDocumentTests {
    @Test func theDocumentedMatrixIsTheShippedMatrix() throws {
        let document = URL(fileURLWithPath: #filePath)
            .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("docs/ROLES.md")
        let text = try String(contentsOf: document, encoding: .utf8)
        let start = try #require(text.range(of: "<!-- matrix:start -->"))
        let end = try #require(text.range(of: "<!-- matrix:end -->"))
        var documented: [Role: Set<Permission>] = [:]
        for line in text[start.upperBound..<end.lowerBound].split(separator: "\n") where line.hasPrefix("| `") {
            let cells = line.split(separator: "|").map { $0.trimmingCharacters(in: .whitespaces) }
            let role = try #require(Role(rawValue: cells[0].trimmingCharacters(in: CharacterSet(charactersIn: "`"))))
            let permissions = try cells[1].split(separator: ",").map { cell in
                try #require(Permission(rawValue: cell.trimmingCharacters(in: CharacterSet(charactersIn: "` "))))
            }
            documented[role] = Set(permissions)
        }
        #expect(documented == PermissionMatrix.standard.grants)
    }
}
