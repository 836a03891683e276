import HummingbirdBcrypt
import NIOPosix

/// Hashes and checks passwords with a slow KDF. bcrypt keeps its cost inside each hash (`$2b$12$…`), so
/// raising the cost later applies to new hashes while old ones still verify.
public protocol PasswordHasher: Sendable {
    func hash(_ password: String) async throws -> String
    func verify(_ password: String, against hash: String) async throws -> Bool
}

/// bcrypt on the thread pool, so that a deliberately slow hash never stalls an event loop.
public struct BcryptPasswordHasher: PasswordHasher {
    public let cost: UInt8

    public init(cost: UInt8) {
        self.cost = cost
    }

    public func hash(_ password: String) async throws -> String {
        let cost = self.cost
        return try await NIOThreadPool.singleton.runIfActive { Bcrypt.hash(password, cost: cost) }
    }

    public func verify(_ password: String, against hash: String) async throws -> Bool {
        try await NIOThreadPool.singleton.runIfActive { Bcrypt.verify(password, hash: hash) }
    }
}
