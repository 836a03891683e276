import HummingbirdBcrypt
import NIOCore
import NIOPosix

/// Hashes and checks passwords with a slow KDF. bcrypt keeps its cost inside each hash (`$2b$12$…`), so
/// raising the cost later applies to new hashes while old ones still verify.
public protocol PasswordHasher: Sendable {
    func hash(_ password: String) async throws -> String
    func verify(_ password: String, against hash: String) async throws -> Bool
}

/// bcrypt on a thread pool of its own, so that a deliberately slow hash never stalls an event loop, and never
/// waits behind database work.
public struct BcryptPasswordHasher: PasswordHasher {
    public let cost: UInt8

    /// One thread per core: hashing is pure computation.
    static let threads: NIOThreadPool = {
        let pool = NIOThreadPool(numberOfThreads: System.coreCount)
        pool.start()
        return pool
    }()

    public init(cost: UInt8) {
        self.cost = cost
    }

    public func hash(_ password: String) async throws -> String {
        let cost = self.cost
        return try await Self.threads.runIfActive { Bcrypt.hash(password, cost: cost) }
    }

    public func verify(_ password: String, against hash: String) async throws -> Bool {
        try await Self.threads.runIfActive { Bcrypt.verify(password, hash: hash) }
    }
}
