import SQLKit

/// A fixed list of column names, quoted once for the life of the process instead of on every statement. Used by the
/// statements every credit query makes, where quoting each name again (SQLKit escapes every identifier as it writes
/// it) was a measurable share of a query's cost. Both dialects quote identifiers with double quotes.
struct ColumnList: SQLExpression {
    let sql: String

    init(_ names: [String]) {
        sql = names.map { "\"" + $0.replacingOccurrences(of: "\"", with: "\"\"") + "\"" }.joined(separator: ", ")
    }

    func serialize(to serializer: inout SQLSerializer) {
        serializer.write(sql)
    }
}
