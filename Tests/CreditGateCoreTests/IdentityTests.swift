import Foundation
import Testing

@testable import CreditGateCore

@Suite struct PermissionMatrixTests {
    @Test func noRolesAllowNothing() {
        for permission in Permission.allCases {
            #expect(!PermissionMatrix.standard.allows([Role](), permission))
        }
    }

    @Test func everyRoleMayUseTheConsoleAndNoMore() {
        for role in Role.allCases {
            #expect(PermissionMatrix.standard.allows([role], .consoleUse))
        }
        #expect(PermissionMatrix.standard.permissions(for: [.queryOperator])
            == [.consoleUse, .profileUpdate, .examTake, .consentsUpload, .consentsRead, .consentsWithdraw, .queriesMake, .loansRead])
    }

    @Test func permissionsAreTheUnionOfRoles() {
        let union = PermissionMatrix.standard.permissions(for: [.queryOperator, .creditAdministrator])
        #expect(union == PermissionMatrix.standard.permissions(for: [.creditAdministrator]).union([.examTake, .consentsUpload, .queriesMake]))
        #expect(!union.contains(.systemStatusRead))
    }

    @Test func aMatrixWithoutARoleGrantsThatRoleNothing() {
        let matrix = PermissionMatrix(grants: [.approver: [.consoleUse]])
        #expect(!matrix.allows([.systemAdministrator], .consoleUse))
        #expect(matrix.allows([.approver], .consoleUse))
    }
}

@Suite struct EmployeeIDTests {
    @Test(arguments: ["E1001", "e1001", " ab-12 ", String(repeating: "A", count: 32)])
    func acceptsWellFormedIDs(_ text: String) {
        #expect(EmployeeID(text) != nil)
    }

    @Test(arguments: ["", "abc", "E 1001", "E1001;DROP", "张三1234", String(repeating: "A", count: 33)])
    func refusesMalformedIDs(_ text: String) {
        #expect(EmployeeID(text) == nil)
    }

    @Test func caseDoesNotMakeASecondPerson() {
        #expect(EmployeeID("e1001") == EmployeeID("E1001"))
    }
}

@Suite struct RegionCodeTests {
    @Test(arguments: ["110102", "310101", "440106", "650102", "810000", "820000", "710000"])
    func acceptsKnownProvinces(_ text: String) {
        #expect(RegionCode(text)?.province == String(text.prefix(2)))
    }

    @Test(arguments: ["000000", "990000", "10010", "1101021", "11010a", "１１０１０２"])
    func refusesOthers(_ text: String) {
        #expect(RegionCode(text) == nil)
    }
}

@Suite struct NetworkCIDRTests {
    @Test func ipv4Containment() throws {
        let network = try #require(NetworkCIDR("10.12.0.0/16"))
        #expect(network.contains("10.12.255.1"))
        #expect(!network.contains("10.13.0.1"))
        #expect(!network.contains("fd00::1"))
        #expect(network.contains("::ffff:10.12.3.4"))
        #expect(network.description == "10.12.0.0/16")
    }

    @Test func ipv6Containment() throws {
        let network = try #require(NetworkCIDR("fd00:12::/48"))
        #expect(network.contains("fd00:12:0:ffff::1"))
        #expect(!network.contains("fd00:13::1"))
        #expect(!network.contains("10.0.0.1"))
        #expect(network.description == "fd00:12::/48")
    }

    @Test func bareAddressesAreHosts() throws {
        #expect(try #require(NetworkCIDR("192.168.1.7")).prefixLength == 32)
        #expect(try #require(NetworkCIDR("::1")).prefixLength == 128)
    }

    @Test(arguments: ["10.1.2.3/16", "10.0.0.0/33", "300.0.0.0/8", "10.0.0/8", "01.0.0.0/8", "fd00::1::2/64",
                      "fd00:12::/129", "not-an-ip", "10.0.0.0/-1", "10.0.0.0/"])
    func refusesMalformedOrWidenedNetworks(_ text: String) {
        #expect(NetworkCIDR(text) == nil)
    }

    @Test func formatsCompressedIPv6() {
        #expect(IPAddress.format(IPAddress.parse("2001:db8:0:0:1:0:0:1")!) == "2001:db8::1:0:0:1")
        #expect(IPAddress.format(IPAddress.parse("::")!) == "::")
        #expect(IPAddress.format(IPAddress.parse("fe80::1%eth0")!) == "fe80::1")
    }
}

@Suite struct PasswordPolicyTests {
    let employee = EmployeeID("E1001")!

    @Test func acceptsAStrongPassword() {
        #expect(PasswordPolicy().violations(of: "Correct-Horse-42", employeeID: employee).isEmpty)
    }

    @Test func namesEveryViolation() {
        #expect(PasswordPolicy().violations(of: "short1A", employeeID: employee) == [.tooShort])
        #expect(PasswordPolicy().violations(of: "alllowercaseletters", employeeID: employee) == [.tooFewClasses])
        #expect(PasswordPolicy().violations(of: "Xx-e1001-longer", employeeID: employee) == [.containsEmployeeID])
    }

    @Test func generatedPasswordsSatisfyThePolicy() {
        // The generator lives in the server target; here: a policy-compliant sample of every class.
        #expect(PasswordPolicy().violations(of: "aB3-aB3-aB3-", employeeID: employee).isEmpty)
    }
}

@Suite struct SessionPolicyTests {
    let policy = SessionPolicy(idleTimeout: 900, absoluteLifetime: 28_800)
    let start = Date(timeIntervalSince1970: 1_800_000_000)

    @Test func validWhileActive() {
        #expect(policy.validity(createdAt: start, lastSeenAt: start.addingTimeInterval(600), now: start.addingTimeInterval(1000)) == .valid)
    }

    @Test func idleTimeoutEndsAQuietSession() {
        #expect(policy.validity(createdAt: start, lastSeenAt: start, now: start.addingTimeInterval(900)) == .idleExpired)
    }

    @Test func lifetimeWinsOverActivity() {
        let now = start.addingTimeInterval(28_800)
        #expect(policy.validity(createdAt: start, lastSeenAt: now.addingTimeInterval(-1), now: now) == .lifetimeExpired)
    }
}
