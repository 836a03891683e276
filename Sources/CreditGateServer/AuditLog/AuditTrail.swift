import CreditGateCore
import CreditGateStore
import Foundation

/// What handlers and services use to record audit events. An operation that must be audited calls ``record(_:)``
/// before it completes; when the log cannot take the entry the operation fails closed with a 503 problem
/// ("audit log unavailable") instead of going ahead unrecorded.
public struct AuditTrail: Sendable {
    let writer: AuditLogWriter
    public let subjects: SubjectHasher

    public init(writer: AuditLogWriter, subjects: SubjectHasher) {
        self.writer = writer
        self.subjects = subjects
    }

    /// Appends the event and returns its log index once durable.
    @discardableResult
    public func record(_ event: AuditEvent) async throws -> UInt64 {
        do {
            return try await writer.append(event)
        } catch is AuditLogUnavailable {
            throw CreditGateError(.serviceUnavailable, detailKey: "detail_audit_log_unavailable", cause: "audit log unavailable")
        }
    }

    /// Appends the event together with the rows it records, in one transaction, and returns its log index once both
    /// are durable; `nil` when the write declined (see ``AuditedWrite``), and then neither was written.
    public func record(_ event: AuditEvent, with write: AuditedWrite) async throws -> UInt64? {
        do {
            return try await writer.append(event, with: write)
        } catch is AuditLogUnavailable {
            throw CreditGateError(.serviceUnavailable, detailKey: "detail_audit_log_unavailable", cause: "audit log unavailable")
        }
    }

    /// ``record(_:with:)`` for a write that never declines (a new row): should it decline all the same, nothing was
    /// written, and the caller gets the same 503 as when the log cannot take the entry.
    @discardableResult
    public func record(_ event: AuditEvent, alwaysWith write: AuditedWrite) async throws -> UInt64 {
        guard let index = try await record(event, with: write) else {
            throw CreditGateError(.serviceUnavailable, detailKey: "detail_audit_log_unavailable", cause: "\(event.kind.rawValue) not recorded")
        }
        return index
    }

    public var isHealthy: Bool {
        get async { await writer.isHealthy }
    }
}

extension AuditEvent.Actor {
    init(_ user: User) {
        self.init(userID: user.id.rawValue, employeeID: user.employeeID.value)
    }
}
