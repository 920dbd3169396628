import Foundation
import Graphiti
import LatchkeyCore

/// Latchkey's GraphQL schema: GitLab's type, field and argument names for the parts of its API Latchkey serves.
enum GraphQLSchemaParts {
    typealias Parts = [Component<GraphQLResolver, GraphQLContext>]

    static func makeSchema() throws -> Schema<GraphQLResolver, GraphQLContext> {
        let parts: Parts = scalars + projectTypes + scopeTypes + mutationTypes + [query, mutation]
        return try Schema<GraphQLResolver, GraphQLContext> { return parts }
    }

    static var scalars: Parts {
        [
            Scalar(GraphQLID.self, as: "ID"),
            Scalar(GraphQLTime.self, as: "Time"),
            Enum(GraphQLPolicy.self, as: "CiJobTokenScopePolicies") { return GraphQLPolicy.all.map { Value($0) } },
            Enum(GraphQLDirection.self, as: "CiJobTokenScopeDirection") { return GraphQLDirection.allCases.map { Value($0) } },
        ]
    }

    static var projectTypes: Parts {
        [
            Type(ProjectNode.self, as: "Project") {
                Field("id", at: \.id)
                Field("name", at: \.name)
                Field("path", at: \.path)
                Field("fullPath", at: \.fullPath)
                Field("nameWithNamespace", at: \.nameWithNamespace)
                Field("description", at: \.description)
                Field("visibility", at: \.visibility)
                Field("webUrl", at: \.webUrl)
                Field("ciCdSettings", at: ProjectNode.ciCdSettings)
                Field("ciJobTokenScope", at: ProjectNode.ciJobTokenScope)
                Field("ciJobTokenAuthLogs", at: ProjectNode.ciJobTokenAuthLogs) { return pageArguments() }
            },
            Type(UserNode.self, as: "UserCore") {
                Field("id", at: \.id)
                Field("username", at: \.username)
                Field("name", at: \.name)
                Field("state", at: \.state)
                Field("webUrl", at: \.webUrl)
                Field("webPath", at: \.webPath)
                Field("avatarUrl", at: \.avatarUrl)
                Field("bot", at: \.bot)
                Field("active", at: \.active)
            },
            Type(CiCdSettingsNode.self, as: "ProjectCiCdSetting") {
                Field("inboundJobTokenScopeEnabled", at: \.inboundJobTokenScopeEnabled)
                Field("jobTokenScopeEnabled", at: \.jobTokenScopeEnabled)
                Field("pushRepositoryForJobTokenAllowed", at: \.pushRepositoryForJobTokenAllowed)
                Field("project", at: \.project)
            },
            Type(AuthLogNode.self, as: "CiJobTokenAuthLog") {
                Field("originProject", at: \.originProject)
                Field("lastAuthorizedAt", at: \.lastAuthorizedAt)
            },
            Type(GraphQLPageInfo.self, as: "PageInfo") {
                Field("hasNextPage", at: \.hasNextPage)
                Field("hasPreviousPage", at: \.hasPreviousPage)
                Field("startCursor", at: \.startCursor)
                Field("endCursor", at: \.endCursor)
            },
        ] + connection(ProjectNode.self, named: "Project") + connection(AuthLogNode.self, named: "CiJobTokenAuthLog")
    }

    static var scopeTypes: Parts {
        [
            Type(JobTokenScopeNode.self, as: "CiJobTokenScopeType") {
                Field("inboundAllowlist", at: JobTokenScopeNode.inboundAllowlist) { return pageArguments() }
                Field("groupsAllowlist", at: JobTokenScopeNode.groupsAllowlist) { return pageArguments() }
                Field("outboundAllowlist", at: JobTokenScopeNode.outboundAllowlist) { return pageArguments() }
                Field("projects", at: JobTokenScopeNode.outboundAllowlist) { return pageArguments() }
                    .deprecationReason("The `projects` attribute is being deprecated. Use `outbound_allowlist`.")
                Field("inboundAllowlistCount", at: \.inboundAllowlistCount)
                Field("groupsAllowlistCount", at: \.groupsAllowlistCount)
                Field("inboundAllowlistAutopopulatedIds", at: \.inboundAllowlistAutopopulatedIds)
                Field("groupAllowlistAutopopulatedIds", at: \.groupAllowlistAutopopulatedIds)
            },
            Type(AccessibleProjectNode.self, as: "CiJobTokenAccessibleProject") {
                Field("id", at: \.id)
                Field("name", at: \.name)
                Field("path", at: \.path)
                Field("fullPath", at: \.fullPath)
                Field("webUrl", at: \.webUrl)
                Field("avatarUrl", at: \.avatarUrl)
                Field("defaultPermissions", at: \.defaultPermissions)
                Field("jobTokenPolicies", at: \.jobTokenPolicies)
                Field("autopopulated", at: \.autopopulated)
            },
            Type(AccessibleGroupNode.self, as: "CiJobTokenAccessibleGroup") {
                Field("id", at: \.id)
                Field("name", at: \.name)
                Field("path", at: \.path)
                Field("fullPath", at: \.fullPath)
                Field("webUrl", at: \.webUrl)
                Field("avatarUrl", at: \.avatarUrl)
                Field("defaultPermissions", at: \.defaultPermissions)
                Field("jobTokenPolicies", at: \.jobTokenPolicies)
                Field("autopopulated", at: \.autopopulated)
            },
            Union(ScopeTargetNode.self, as: "CiJobTokenScopeTarget", members: AccessibleProjectNode.self, AccessibleGroupNode.self),
            Type(AllowlistEntryNode.self, as: "CiJobTokenScopeAllowlistEntry") {
                Field("sourceProject", at: \.sourceProject)
                Field("target", at: \.target)
                Field("direction", at: \.direction)
                Field("defaultPermissions", at: \.defaultPermissions)
                Field("jobTokenPolicies", at: \.jobTokenPolicies)
                Field("autopopulated", at: \.autopopulated)
                Field("createdAt", at: \.createdAt)
            },
        ] + connection(AccessibleProjectNode.self, named: "CiJobTokenAccessibleProject")
            + connection(AccessibleGroupNode.self, named: "CiJobTokenAccessibleGroup")
    }

    static var mutationTypes: Parts {
        [
            Input(AddProjectInput.self, as: "CiJobTokenScopeAddProjectInput") {
                InputField("clientMutationId", at: \.clientMutationId)
                InputField("projectPath", at: \.projectPath)
                InputField("targetProjectPath", at: \.targetProjectPath)
                InputField("direction", at: \.direction)
            },
            Input(AddGroupOrProjectInput.self, as: "CiJobTokenScopeAddGroupOrProjectInput") {
                InputField("clientMutationId", at: \.clientMutationId)
                InputField("projectPath", at: \.projectPath)
                InputField("targetPath", at: \.targetPath)
                InputField("defaultPermissions", at: \.defaultPermissions)
                InputField("jobTokenPolicies", at: \.jobTokenPolicies)
            },
            Input(RemoveProjectInput.self, as: "CiJobTokenScopeRemoveProjectInput") {
                InputField("clientMutationId", at: \.clientMutationId)
                InputField("projectPath", at: \.projectPath)
                InputField("targetProjectPath", at: \.targetProjectPath)
                InputField("direction", at: \.direction)
            },
            Input(RemoveGroupInput.self, as: "CiJobTokenScopeRemoveGroupInput") {
                InputField("clientMutationId", at: \.clientMutationId)
                InputField("projectPath", at: \.projectPath)
                InputField("targetGroupPath", at: \.targetGroupPath)
            },
            Input(UpdatePoliciesInput.self, as: "CiJobTokenScopeUpdatePoliciesInput") {
                InputField("clientMutationId", at: \.clientMutationId)
                InputField("projectPath", at: \.projectPath)
                InputField("targetPath", at: \.targetPath)
                InputField("defaultPermissions", at: \.defaultPermissions)
                InputField("jobTokenPolicies", at: \.jobTokenPolicies)
            },
            Input(CiCdSettingsUpdateInput.self, as: "ProjectCiCdSettingsUpdateInput") {
                InputField("clientMutationId", at: \.clientMutationId)
                InputField("fullPath", at: \.fullPath)
                InputField("inboundJobTokenScopeEnabled", at: \.inboundJobTokenScopeEnabled)
                InputField("jobTokenScopeEnabled", at: \.jobTokenScopeEnabled)
                InputField("pushRepositoryForJobTokenAllowed", at: \.pushRepositoryForJobTokenAllowed)
            },
            scopePayload(AddProjectInput.self, named: "CiJobTokenScopeAddProjectPayload"),
            scopePayload(AddGroupOrProjectInput.self, named: "CiJobTokenScopeAddGroupOrProjectPayload"),
            scopePayload(RemoveProjectInput.self, named: "CiJobTokenScopeRemoveProjectPayload"),
            scopePayload(RemoveGroupInput.self, named: "CiJobTokenScopeRemoveGroupPayload"),
            Type(UpdatePoliciesPayload.self, as: "CiJobTokenScopeUpdatePoliciesPayload") {
                Field("clientMutationId", at: \.clientMutationId)
                Field("errors", at: \.errors)
                Field("ciJobTokenScopeAllowlistEntry", at: \.ciJobTokenScopeAllowlistEntry)
            },
            Type(CiCdSettingsUpdatePayload.self, as: "ProjectCiCdSettingsUpdatePayload") {
                Field("clientMutationId", at: \.clientMutationId)
                Field("errors", at: \.errors)
                Field("ciCdSettings", at: \.ciCdSettings)
            },
        ]
    }

    static func scopePayload<Input>(_: Input.Type, named name: String) -> Component<GraphQLResolver, GraphQLContext> {
        Type(ScopeMutationPayload<Input>.self, as: name) {
            Field("clientMutationId", at: \.clientMutationId)
            Field("errors", at: \.errors)
            Field("ciJobTokenScope", at: \.ciJobTokenScope)
        }
    }

    static var query: Component<GraphQLResolver, GraphQLContext> {
        Query {
            Field("project", at: GraphQLResolver.project) {
                Argument("fullPath", at: \.fullPath)
            }
            Field("currentUser", at: GraphQLResolver.currentUser)
        }
    }

    static var mutation: Component<GraphQLResolver, GraphQLContext> {
        Mutation {
            Field("ciJobTokenScopeAddProject", at: GraphQLResolver.addProject) { Argument("input", at: \.input) }
            Field("ciJobTokenScopeAddGroupOrProject", at: GraphQLResolver.addGroupOrProject) { Argument("input", at: \.input) }
            Field("ciJobTokenScopeRemoveProject", at: GraphQLResolver.removeProject) { Argument("input", at: \.input) }
            Field("ciJobTokenScopeRemoveGroup", at: GraphQLResolver.removeGroup) { Argument("input", at: \.input) }
            Field("ciJobTokenScopeUpdatePolicies", at: GraphQLResolver.updatePolicies) { Argument("input", at: \.input) }
            Field("projectCiCdSettingsUpdate", at: GraphQLResolver.updateCiCdSettings) { Argument("input", at: \.input) }
        }
    }
}

/// The schema with its resolver, as Graphiti runs it.
struct LatchkeyGraphQLAPI: API {
    let resolver = GraphQLResolver()
    let schema: Schema<GraphQLResolver, GraphQLContext>
}
