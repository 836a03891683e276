import CreditGateCore
import Foundation
import Hummingbird

/// The register of related parties through the API: a system or credit administrator records, lists and
/// removes a person's own identifier and declared relatives, within their scope. Identifiers come back masked.
struct RelatedPartyAPIController {
    let relatedParties: RelatedPartyService

    func addRoutes(to group: RouterGroup<AppRequestContext>) {
        group.group().add(middleware: RequirePermission(.usersManage))
            .get("users/{id}/related-parties", use: list)
            .post("users/{id}/related-parties", use: declare)
            .delete("users/{id}/related-parties/{partyId}", use: remove)
    }

    @Sendable func list(_ request: Request, context: AppRequestContext) async throws -> RelatedPartyList {
        let parties = try await relatedParties.parties(of: try QueryAPIController.id(context), for: try context.requireIdentity())
        return RelatedPartyList(relatedParties: parties.map(RelatedPartyDTO.init))
    }

    @Sendable func declare(_ request: Request, context: AppRequestContext) async throws -> EditedResponse<RelatedPartyDTO> {
        let body = try await JSONBody.decode(RelatedPartyRequest.self, from: request, context: context)
        let party = try await relatedParties.declare(
            .init(relation: body.relation, certificateType: body.certificateType, certificateNumber: body.certificateNumber),
            for: try QueryAPIController.id(context), by: try context.requireIdentity(), clientIP: context.clientIP
        )
        return EditedResponse(status: .created, response: RelatedPartyDTO(party))
    }

    @Sendable func remove(_ request: Request, context: AppRequestContext) async throws -> Response {
        try await relatedParties.remove(try QueryAPIController.id(context, parameter: "partyId"), of: try QueryAPIController.id(context),
                                        by: try context.requireIdentity(), clientIP: context.clientIP)
        return Response(status: .noContent)
    }
}

struct RelatedPartyRequest: Decodable {
    let relation: String
    let certificateType: String
    let certificateNumber: String
}

/// One entry of the register, with the identifier masked.
struct RelatedPartyDTO: ResponseEncodable {
    let id: String
    let userId: String
    let relation: String
    let certificateType: String
    let maskedIdentifier: String
    let declaredBy: String
    let declaredAt: Date

    init(_ party: RelatedParty) {
        id = party.id.rawValue
        userId = party.userID.rawValue
        relation = party.relation.rawValue
        certificateType = party.subjectType.rawValue
        maskedIdentifier = party.maskedIdentifier
        declaredBy = party.declaredBy.rawValue
        declaredAt = party.declaredAt
    }
}

struct RelatedPartyList: ResponseEncodable {
    let relatedParties: [RelatedPartyDTO]
}
