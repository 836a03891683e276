import CreditGateCore
import Foundation
import NIOHTTP1

/// The bank the gateway bench queries through, made through the same services an installation uses: a head office
/// in Beijing with two branches, two system administrators, query operators signed in with their second factor, an
/// approved client application, caps raised so that nothing is refused, and a consent on file for every subject.
struct BenchBank {
    let services: AppServices
    let secrets: Secrets
    let subjects: Int
    let operators: Int

    /// Every request of the bench comes from here; the head office's networks contain it.
    static let clientIP = "127.0.0.1"
    static let headOfficeRegion = "110102"

    /// Seeds the bank and returns one query per subject, each carrying its operator's token and the application's
    /// credential.
    func seed() async throws -> [LoadRequest] {
        let now = services.clock()
        let head = Organisation(id: .random(), code: "BENCH-HO", name: "基准银行总行 Bench Bank Head Office", kind: .headOffice, parentID: nil,
                                regionCode: RegionCode(Self.headOfficeRegion)!,
                                networks: ["10.10.0.0/16", "fd00:10::/48", "127.0.0.0/8", "::1/128"].compactMap(NetworkCIDR.init))
        try await services.organisations.create(head, now: now)
        for (code, name, region, network) in [("BENCH-SH", "基准银行上海分行 Shanghai Branch", "310101", "10.31.0.0/16"),
                                              ("BENCH-GD", "基准银行广东分行 Guangdong Branch", "440106", "10.44.0.0/16")] {
            try await services.organisations.create(Organisation(id: .random(), code: code, name: name, kind: .branch, parentID: head.id,
                                                                 regionCode: RegionCode(region)!, networks: [NetworkCIDR(network)!]), now: now)
        }
        let registrar = try await signIn("A0001", role: .systemAdministrator).identity
        let approver = try await signIn("A0002", role: .systemAdministrator).identity
        var queriers: [(identity: AuthenticatedUser, token: String)] = []
        for number in 1...operators {
            queriers.append(try await signIn("Q" + CalendarDate.zeroPadded(number, 4), role: .queryOperator))
        }
        _ = try await services.policy.update(head.id, to: PolicySettings(userDailyCap: 10_000, organisationDailyCap: 1_000_000),
                                             by: registrar, clientIP: Self.clientIP)
        let (app, secret) = try await services.clientApps.register(name: "信贷管理系统 Loan system", organisationIDs: [head.id], by: registrar,
                                                                   clientIP: Self.clientIP)
        _ = try await services.clientApps.approve(app.id, by: approver, clientIP: Self.clientIP)
        var queries: [LoadRequest] = []
        for index in 0..<subjects {
            let (number, name) = (Self.residentID(index), Self.names[index % Self.names.count])
            let querier = queriers[index % queriers.count]
            let consent = try await services.consents.file(ConsentService.Filing(
                certificateType: "10", certificateNumber: number, subjectName: name, purposes: ["02"], signedOn: "2026-03-02",
                validUntil: "2027-03-01", fileName: "consent-\(index).pdf", document: Self.consentScan
            ), by: querier.identity, clientIP: Self.clientIP)
            queries.append(LoadRequest(method: .POST, uri: "/api/v1/queries", headers: [
                ("Authorization", "Bearer \(querier.token)"), ("Content-Type", "application/json"),
                ("CreditGate-App-Id", app.id.rawValue), ("CreditGate-App-Secret", secret),
            ], body: #"{"certificateType":"10","certificateNumber":"\#(number)","subjectName":"\#(name)","purpose":"02","consentId":"\#(consent.id.rawValue)"}"#))
        }
        return queries
    }

    /// Opens an account in the head office, enrols a second factor as if its holder had scanned the QR code, and
    /// signs in with a fresh code. Query operators get query rights, as the end of the approval chain would give.
    func signIn(_ employeeID: String, role: Role) async throws -> (identity: AuthenticatedUser, token: String) {
        let password = AccountService.generatePassword()
        let user = try await services.accounts.open(employeeID: employeeID, displayName: "基准\(employeeID)", organisationCode: "BENCH-HO",
                                                    roles: [role], password: password)
        let totp = TOTP(secret: TOTP.generateSecret())
        try await services.users.confirmTOTP(user.id, sealed: try SecondFactorSealer(key: secrets.secondFactorKey).seal(totp.secret, for: user.id), step: 0)
        if role == .queryOperator {
            _ = try await services.users.grantQueryRights(user.id, at: services.clock())
        }
        let session = try await services.authentication.signIn(employeeID: employeeID, password: password, code: totp.code(at: services.clock()),
                                                               clientIP: Self.clientIP)
        guard case .recognised(let identity) = try await services.authentication.authenticate(token: session.token, via: .bearer) else {
            throw BenchmarkError("the session of \(employeeID) was not recognised")
        }
        return (identity, session.token)
    }

    /// A valid GB 11643 resident ID born in the head office's district, distinct for each index below 1,000: birth
    /// dates spread over 1960–1999, the sequence number is the index.
    static func residentID(_ index: Int) -> String {
        let body = headOfficeRegion + CalendarDate.zeroPadded(1960 + index % 40, 4) + CalendarDate.zeroPadded(1 + index % 12, 2)
            + CalendarDate.zeroPadded(1 + index % 28, 2) + CalendarDate.zeroPadded(index % 1000, 3)
        return body + String(SubjectIdentifier.idCheckCharacter(Array(body))!)
    }

    static let names = ["张伟", "王芳", "李娜", "刘洋", "陈静", "杨磊", "赵敏", "黄勇", "周杰", "吴霞", "徐明", "孙丽"]

    /// The smallest document the consent check takes for a PDF.
    static let consentScan = Data("%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n".utf8)
}
