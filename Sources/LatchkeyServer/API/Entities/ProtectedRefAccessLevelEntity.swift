import LatchkeyCore

/// One entry of a protected branch's or tag's access levels (GitLab's `ProtectedRefAccess`): CE has one per list, a role level.
struct ProtectedRefAccessLevelEntity: Encodable {
    var id: Int64
    var accessLevel: Int
    var accessLevelDescription: String
    @Nullable var deployKeyId: Int64?
    @Nullable var userId: Int64?
    @Nullable var groupId: Int64?

    init(id: Int64, _ level: ProtectedRefAccessLevel) {
        self.id = id
        accessLevel = level.rawValue
        accessLevelDescription = level.title
    }
}
