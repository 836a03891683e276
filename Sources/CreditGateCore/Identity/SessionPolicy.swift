import Foundation

/// How long a console or API session lives: an idle timeout and an absolute lifetime.
public struct SessionPolicy: Sendable, Equatable {
    public var idleTimeout: TimeInterval
    public var absoluteLifetime: TimeInterval

    public init(idleTimeout: TimeInterval = 15 * 60, absoluteLifetime: TimeInterval = 8 * 60 * 60) {
        self.idleTimeout = idleTimeout
        self.absoluteLifetime = absoluteLifetime
    }

    public enum Validity: Equatable, Sendable {
        case valid
        case idleExpired
        case lifetimeExpired
    }

    /// Whether a session created at `createdAt` and last used at `lastSeenAt` may still be used at `now`.
    /// The absolute lifetime wins over activity: a session in constant use still ends after it.
    public func validity(createdAt: Date, lastSeenAt: Date, now: Date) -> Validity {
        if now.timeIntervalSince(createdAt) >= absoluteLifetime { return .lifetimeExpired }
        if now.timeIntervalSince(lastSeenAt) >= idleTimeout { return .idleExpired }
        return .valid
    }
}
