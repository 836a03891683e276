import CreditGateCore
import CreditGateStore
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing

@testable import CreditGateServer

/// The register of related parties through HTTP (R-21): what an administrator registers, and the queries it stops —
/// one's own report, a declared relative's, a colleague's in the same unit — which no approval can let through.
@Suite struct RelatedPartyTests {
    static func codes(_ body: [String: Any]) -> [String] { ExceptionAPITests.codes(body) }

    @Test func aRegisteredIdentifierStopsTheQueriesOfItsHolderAndTheirColleaguesUntilRemoved() async throws {
        let bank = try await TestBank.make()
        try await QueryPathTests.grantRights(bank)
        // A colleague of Q0001 at the head office, and a query operator of a branch in the same district.
        let head = try #require(try await bank.services.organisations.find(code: "HO"))
        try await bank.services.organisations.create(Organisation(id: .random(), code: "BR", name: "分行", kind: .branch, parentID: head.id,
                                                                  regionCode: head.regionCode, networks: [NetworkCIDR("127.0.0.0/8")!]),
                                                     now: bank.clock.now)
        for (employeeID, unit) in [("Q0002", "HO"), ("Q0003", "BR")] {
            let person = try await bank.services.accounts.open(employeeID: employeeID, displayName: "测试\(employeeID)", organisationCode: unit,
                                                               roles: [.queryOperator], password: TestBank.password)
            try await bank.enrolSecondFactor(person.id)
            #expect(try await bank.services.users.grantQueryRights(person.id, at: bank.clock.now))
        }
        let holder = try #require(try await bank.services.users.find(employeeID: EmployeeID("Q0001")!))
        let app = try await bank.application()
        try await app.test(.live) { client in
            let clientApp = try await QueryPathTests.approvedApp(client, bank: bank)
            let admin = try await client.apiToken("A0001", bank: bank)
            let register = "/api/v1/users/\(holder.id.rawValue)/related-parties"
            // Bad input is refused and recorded nothing.
            for body in [#"{"relation":"cousin","certificateType":"10","certificateNumber":"\#(QueryPathTests.subjectID)"}"#,
                         #"{"relation":"self","certificateType":"10","certificateNumber":"110105199003071230"}"#,
                         #"{"relation":"self","certificateType":"b","certificateNumber":"91350100M000100Y43"}"#] {
                let (status, problem) = try await PeopleAccessTests.call(client, .post, register, token: admin, body: body)
                #expect(status == .unprocessableContent && problem["type"] != nil)
            }
            #expect(try await PeopleAccessTests.call(client, .get, register, token: admin).1["relatedParties"] as? [Any] != nil)
            #expect((try await PeopleAccessTests.call(client, .get, register, token: admin).1["relatedParties"] as? [Any])?.isEmpty == true)

            // Q0001's own identifier, registered: shown masked, never whole.
            let (created, entry) = try await PeopleAccessTests.call(client, .post, register, token: admin,
                body: #"{"relation":"self","certificateType":"10","certificateNumber":"\#(QueryPathTests.subjectID)"}"#)
            #expect(created == .created && entry["relation"] as? String == "self" && entry["maskedIdentifier"] as? String == "110***********1239")
            let entryID = try #require(entry["id"] as? String)
            #expect(try await PeopleAccessTests.call(client, .post, register, token: admin,
                body: #"{"relation":"spouse","certificateType":"10","certificateNumber":"\#(QueryPathTests.subjectID)"}"#).0 == .conflict)
            let listed = try #require(try await PeopleAccessTests.call(client, .get, register, token: admin).1["relatedParties"] as? [[String: Any]])
            #expect(listed.compactMap { $0["id"] as? String } == [entryID])
            #expect(!String(describing: listed).contains(QueryPathTests.subjectID))
            // Nobody keeps their own entries, nor anyone's while they may query.
            let adminUser = try #require(try await bank.services.users.find(employeeID: EmployeeID("A0001")!))
            #expect(try await PeopleAccessTests.call(client, .post, "/api/v1/users/\(adminUser.id.rawValue)/related-parties", token: admin,
                body: #"{"relation":"self","certificateType":"10","certificateNumber":"11010519491231002X"}"#).0 == .forbidden)
            let querying = try await bank.services.accounts.open(employeeID: "A0009", displayName: "测试A0009", organisationCode: "HO",
                                                                 roles: [.systemAdministrator, .queryOperator], password: TestBank.password)
            try await bank.enrolSecondFactor(querying.id)
            let (refused, problem) = try await PeopleAccessTests.call(client, .delete, "\(register)/\(entryID)",
                                                                      token: try await client.apiToken("A0009", bank: bank))
            #expect(refused == .forbidden && (problem["detail"] as? String)?.isEmpty == false)
            // Another document of the same person is registered on its own, shown with little of it.
            let (passport, other) = try await PeopleAccessTests.call(client, .post, register, token: admin,
                body: #"{"relation":"self","certificateType":"2","certificateNumber":"E12345678"}"#)
            #expect(passport == .created && other["maskedIdentifier"] as? String == "E******78")
            let passportID = try #require(other["id"] as? String)
            #expect(try await PeopleAccessTests.call(client, .delete, "\(register)/\(passportID)", token: admin).0 == .noContent)

            // Q0001 querying themself: blocked, whatever the consent, and no approval can change it.
            let token = try await client.apiToken("Q0001", bank: bank)
            let consentID = try #require(try await QueryPathTests.fileConsent(client, token: token).1["id"] as? String)
            let (own, refusal) = try await QueryPathTests.query(client, token: token, consentID: consentID, app: clientApp)
            #expect(own == .forbidden && refusal["policyDecision"] as? String == "block" && Self.codes(refusal) == ["related_party"])
            let reason = try #require((refusal["reasons"] as? [[String: Any]])?.first)
            #expect(reason["exceptable"] as? Bool == false && (reason["message"] as? [String: String])?["en"]?.contains("yourself") == true)
            #expect((reason["message"] as? [String: String])?["zh"]?.contains("您本人") == true)
            #expect(try await ExceptionAPITests.requestException(client, token: token, consentID: consentID, app: clientApp).0 == .conflict)

            // A colleague of the same unit: blocked as a colleague's. One of another unit: not a colleague.
            let colleague = try await client.apiToken("Q0002", bank: bank)
            let colleagueConsent = try #require(try await QueryPathTests.fileConsent(client, token: colleague).1["id"] as? String)
            let (_, colleagueRefusal) = try await QueryPathTests.query(client, token: colleague, consentID: colleagueConsent, app: clientApp)
            #expect(Self.codes(colleagueRefusal) == ["related_party"])
            #expect(((colleagueRefusal["reasons"] as? [[String: Any]])?.first?["message"] as? [String: String])?["en"]?.contains("colleague") == true)
            let branch = try await client.apiToken("Q0003", bank: bank)
            let branchConsent = try #require(try await QueryPathTests.fileConsent(client, token: branch).1["id"] as? String)
            #expect(!Self.codes(try await QueryPathTests.query(client, token: branch, consentID: branchConsent, app: clientApp).1).contains("related_party"))

            // Removed: the query goes ahead. Removing again finds nothing.
            #expect(try await PeopleAccessTests.call(client, .delete, "\(register)/\(entryID)", token: admin).0 == .noContent)
            #expect(try await PeopleAccessTests.call(client, .delete, "\(register)/\(entryID)", token: admin).0 == .notFound)
            #expect(try await QueryPathTests.query(client, token: token, consentID: consentID, app: clientApp).0 == .created)

            // Each step is in the audit log, the identifier only as its keyed hash.
            let events = try await QueryPathTests.events(bank)
            let declared = events.filter { $0["kind"] as? String == "related_party.declared" }
            #expect(declared.compactMap { $0["outcome"] as? String } == ["success", "denied", "success"])
            #expect(events.filter { $0["kind"] as? String == "related_party.removed" }.count == 2)
            let hash = bank.services.auditTrail.subjects.hash(identifierType: "10", identifier: QueryPathTests.subjectID)
            #expect(declared.prefix(2).allSatisfy { $0["subject"] as? String == hash })
            #expect(!String(describing: declared).contains(QueryPathTests.subjectID))
        }
    }

    /// The same register on the person's page in the console: registered and removed by an administrator, shown
    /// masked, bad input refused with a readable message; nobody sees a form for their own entries.
    @Test func anAdministratorKeepsThePersonsRegisterOnTheirPage() async throws {
        let bank = try await TestBank.make()
        let holder = try #require(try await bank.services.users.find(employeeID: EmployeeID("Q0001")!))
        let adminUser = try #require(try await bank.services.users.find(employeeID: EmployeeID("A0001")!))
        try await bank.application().test(.router) { client in
            let admin = try await PeopleConsoleTests.console(client, "A0001", bank: bank)
            let page = "/console/users/\(holder.id.rawValue)"
            let (_, empty) = try await admin.get(page)
            #expect(empty.contains(#"data-testid="add-related-party""#) && !empty.contains(#"data-testid="related-parties""#))
            let (refused, problem) = try await admin.post("\(page)/actions",
                                                          "action=related_party_add&relation=spouse&certificate_type=10&certificate_number=110105199003071230")
            #expect(refused == .unprocessableContent && problem.contains(#"data-testid="form-error""#))
            let (_, added) = try await admin.post("\(page)/actions",
                                                  "action=related_party_add&relation=spouse&certificate_type=10&certificate_number=\(QueryPathTests.subjectID)")
            #expect(added.contains(#"data-testid="action-done""#) && added.contains("110***********1239"))
            #expect(!added.contains(QueryPathTests.subjectID))
            let entry = try #require(try await bank.services.relatedParties.parties.parties(of: holder.id).first)
            #expect(entry.relation == .spouse && entry.declaredBy == adminUser.id)
            let (_, removed) = try await admin.post("\(page)/actions", "action=related_party_remove&entry_id=\(entry.id.rawValue)")
            #expect(removed.contains(#"data-testid="action-done""#) && !removed.contains(#"data-testid="related-parties""#))
            #expect(try await bank.services.relatedParties.parties.parties(of: holder.id).isEmpty)
            let (_, own) = try await admin.get("/console/users/\(adminUser.id.rawValue)")
            #expect(!own.contains(#"data-testid="add-related-party""#))
        }
    }
}
