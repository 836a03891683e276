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

/// How far a signed-in session has got. Only a `full` session carries the user's permissions; the others may do
/// nothing but finish what the stage names (R-05: a new or reset password is changed at once, and nobody works
/// without a second factor).
public enum SessionStage: String, Sendable, Codable, CaseIterable {
    /// The password was set by someone else or has expired: it must be changed first.
    case passwordChange = "password_change"
    /// No second factor yet: it must be enrolled first.
    case secondFactorEnrolment = "second_factor_enrolment"
    case full

    /// The stage a session starts in, or moves to after one step is done.
    public static func next(mustChangePassword: Bool, hasSecondFactor: Bool, secondFactorRequired: Bool) -> SessionStage {
        if mustChangePassword { return .passwordChange }
        if secondFactorRequired, !hasSecondFactor { return .secondFactorEnrolment }
        return .full
    }
}
