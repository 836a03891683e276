import Foundation

/// A subject's answered queries, newest first, read from the index alone.
///
/// The bureau's query-records section lists a subject's latest answered queries. The index of 0004 found every
/// answered query of the subject, then read each from the table to sort them by time, so the read grew with the
/// subject's whole history. This index holds them in time order with the columns the read needs: it stops after
/// the newest few, and never touches the table. Its first three columns are those of the old index, which it
/// replaces for every read that used it.
enum Migration0009SubjectHistoryIndex {
    static let migration = Migration(version: 9, name: "subject_history_index") { _ in
        [
            "CREATE INDEX queries_subject_history ON queries(subject_type, subject_number, status, answered_at, purpose, organisation_id)",
            "DROP INDEX queries_subject",
        ]
    }
}
