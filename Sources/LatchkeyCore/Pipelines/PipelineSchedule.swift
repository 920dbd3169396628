import Foundation

/// A pipeline schedule: runs the project's CI on a ref at cron times, as its owner.
public struct PipelineSchedule: Sendable, Equatable {
    public var id: Int64
    public var projectID: Int64
    public var description: String
    public var ref: String
    public var cron: String
    public var cronTimezone: String
    public var active: Bool
    public var ownerID: Int64
    public var nextRunAt: Date?
    public var variables: [CIVariable]
    public var createdAt: Date
    public var updatedAt: Date

    public init(
        id: Int64, projectID: Int64, description: String, ref: String, cron: String, cronTimezone: String, active: Bool, ownerID: Int64, nextRunAt: Date?,
        variables: [CIVariable], createdAt: Date, updatedAt: Date
    ) {
        self.id = id
        self.projectID = projectID
        self.description = description
        self.ref = ref
        self.cron = cron
        self.cronTimezone = cronTimezone
        self.active = active
        self.ownerID = ownerID
        self.nextRunAt = nextRunAt
        self.variables = variables
        self.createdAt = createdAt
        self.updatedAt = updatedAt
    }
}
