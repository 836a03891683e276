import Crypto
import Foundation
import Testing

@testable import CreditGateCore

@Suite struct CanonicalJSONTests {
    @Test func sortsKeysAndEscapesOnlyWhatJSONRequires() {
        let value = CanonicalJSON.object([
            "b": .array([.integer(-3), .null, .string("引号\"与\\反斜杠\n\u{1}")]),
            "a": .object(["z": .integer(0), "y": .string("/")]),
        ])
        let text = String(decoding: value.encoded, as: UTF8.self)
        #expect(text == #"{"a":{"y":"/","z":0},"b":[-3,null,"引号\"与\\反斜杠\n\u0001"]}"#)
    }

    @Test func theSameEventAlwaysGivesTheSameLeaf() {
        let make = {
            AuditEvent(kind: .signIn, occurredAt: Date(timeIntervalSince1970: 1_800_000_000.1234), actor: .init(userID: "u1", employeeID: "E1001"),
                       clientIP: "10.1.2.3", outcome: .success, reasonCodes: ["ok"], details: ["z": "1", "a": "2"])
        }
        #expect(make().leaf == make().leaf)
        // Known answer: written out by hand from docs/AUDIT-LOG.md.
        let expected = #"{"actor":{"employee":"E1001","user":"u1"},"app":null,"at":1800000000123,"consent":null,"details":{"a":"2","z":"1"},"#
            + #""ip":"10.1.2.3","kind":"auth.sign_in","outcome":"success","purpose":null,"reasons":["ok"],"subject":null,"v":1}"#
        #expect(String(decoding: make().leaf, as: UTF8.self) == expected)
    }

    @Test func subjectHashesAreKeyedAndStable() {
        let hasher = SubjectHasher(key: SymmetricKey(data: Data(repeating: 7, count: 32)))
        let first = hasher.hash(identifierType: "10", identifier: "110101199003071234")
        #expect(first == hasher.hash(identifierType: "10", identifier: "110101199003071234"))
        #expect(first != hasher.hash(identifierType: "10", identifier: "110101199003071235"))
        #expect(first != SubjectHasher(key: SymmetricKey(data: Data(repeating: 8, count: 32))).hash(identifierType: "10", identifier: "110101199003071234"))
        #expect(!first.contains("110101"))
        #expect(first.count == 64)
    }
}

@Suite struct CheckpointTests {
    let signer = NoteSigner(keyName: "demo.bank.example/audit-log", privateKey: try! Curve25519.Signing.PrivateKey(rawRepresentation: Data(repeating: 42, count: 32)))

    @Test func checkpointsRoundTripThroughSignedNotes() throws {
        let checkpoint = Checkpoint(origin: "demo.bank.example/audit-log", size: 8, root: TreeHash(hex: RFC6962Vectors.roots[7])!)
        #expect(checkpoint.body == "demo.bank.example/audit-log\n8\nXcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQyg=\n")
        let note = try signer.sign(checkpoint.body)
        #expect(note.hasPrefix(checkpoint.body + "\n\u{2014} demo.bank.example/audit-log "))
        let body = try signer.verifier.verify(note)
        #expect(try Checkpoint(body: body) == checkpoint)
    }

    @Test func alteredNotesAndForeignKeysAreRejected() throws {
        let note = try signer.sign(Checkpoint(origin: "o", size: 3, root: MerkleHasher.emptyRoot).body)
        #expect(throws: SignedNoteError.self) { try signer.verifier.verify(note.replacingOccurrences(of: "\n3\n", with: "\n4\n")) }
        let other = NoteSigner(keyName: signer.keyName, privateKey: Curve25519.Signing.PrivateKey())
        #expect(throws: SignedNoteError.noValidSignature(keyName: signer.keyName)) { try other.verifier.verify(note) }
        #expect(throws: SignedNoteError.self) { try signer.verifier.verify("no signatures here\n") }
    }

    @Test func verifierKeysRoundTrip() throws {
        let text = signer.verifier.verifierKey
        #expect(text.hasPrefix("demo.bank.example/audit-log+"))
        let parsed = try NoteVerifier(verifierKey: text)
        #expect(parsed.publicKey.rawRepresentation == signer.verifier.publicKey.rawRepresentation)
        #expect(throws: SignedNoteError.self) { try NoteVerifier(verifierKey: text.replacingOccurrences(of: "+", with: "+0", options: [], range: text.range(of: "+"))) }
    }

    @Test func malformedCheckpointBodiesAreRefused() {
        for body in ["", "origin\n", "origin\n12\n", "origin\nx\nAAAA\n", "origin\n012\n\(MerkleHasher.emptyRoot.base64)\n", "o\n1\nnot-base64\n"] {
            #expect(throws: SignedNoteError.self) { try Checkpoint(body: body) }
        }
    }
}
