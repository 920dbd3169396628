import Foundation
import LatchkeyCore

/// The `pre-receive` hook that enforces protected branches and tags on git pushes, and what the server hands it for one push.
///
/// The decision is made in Swift (`AccessPolicy.grants`, `checkBranchChange` and `checkTagChange`); the hook only applies, per pushed
/// ref, what the server wrote for that pusher: one line per rule (`B <may push> <may merge> <allows force push> <pattern>` for a
/// branch, `T <may create> 0 0 <pattern>` for a tag), the default branch, and whether the pusher is a Maintainer (who may delete
/// protected refs, though only through the API). Patterns hold no shell glob character but `*`
/// (`ProtectedBranch.isValidName` refuses `?`, `[`, `\` and spaces), so the shell's `case` matches exactly as GitLab's wildcard.
/// A push that does not come through the server (the operator's own `git push` into the data directory) has no rules file and is
/// not checked. The same hook first streams the pushed objects to the server's token scan (`PushTokenScan`).
enum ProtectedBranchHook {
    static let rulesVariable = "LATCHKEY_PUSH_RULES"
    static let defaultBranchVariable = "LATCHKEY_DEFAULT_BRANCH"
    static let mayDeleteVariable = "LATCHKEY_MAY_DELETE_PROTECTED"

    static var script: String {
        func refuse(_ refusal: BranchChangeRefusal) -> String { "echo \"GitLab: \(refusal.message)\" >&2; status=1" }
        func refuse(_ refusal: TagChangeRefusal) -> String { "echo \"GitLab: \(refusal.message)\" >&2; status=1" }
        return """
            #!/bin/sh
            input=$(cat)
            zero=0000000000000000000000000000000000000000
            \(PushTokenScan.hookSection)
            [ -n "$\(rulesVariable)" ] || exit 0
            status=0
            while read -r old new ref; do
              case "$ref" in
                refs/tags/*)
                  tag="${ref#refs/tags/}"
                  if [ "$old" = "$zero" ] && [ "$tag" = "$\(defaultBranchVariable)" ]; then \(refuse(TagChangeRefusal.defaultBranchCollision)); continue; fi
                  matched=0; create=0
                  while read -r kind may_create unused_merge unused_force pattern; do
                    [ "$kind" = T ] || continue
                    case "$tag" in $pattern) matched=1; [ "$may_create" = 1 ] && create=1 ;; esac
                  done < "$\(rulesVariable)"
                  [ "$matched" = 1 ] || continue
                  if [ "$new" = "$zero" ]; then
                    if [ "$\(mayDeleteVariable)" = 1 ]; then \(refuse(TagChangeRefusal.deleteProtectedOverPush)); else \(refuse(TagChangeRefusal.deleteProtected)); fi
                  elif [ "$old" != "$zero" ]; then
                    \(refuse(TagChangeRefusal.updateProtected))
                  elif [ "$create" = 0 ]; then
                    \(refuse(TagChangeRefusal.createProtected))
                  fi
                  continue ;;
                refs/heads/*) branch="${ref#refs/heads/}" ;;
                *) continue ;;
              esac
              if [ "$new" = "$zero" ] && [ "$branch" = "$\(defaultBranchVariable)" ]; then \(refuse(.deleteDefault)); continue; fi
              matched=0; push=0; merge=0; force=1
              while read -r kind may_push may_merge may_force pattern; do
                [ "$kind" = B ] || continue
                case "$branch" in
                  $pattern) matched=1; [ "$may_push" = 1 ] && push=1; [ "$may_merge" = 1 ] && merge=1; [ "$may_force" = 1 ] || force=0 ;;
                esac
              done < "$\(rulesVariable)"
              [ "$matched" = 1 ] || continue
              if [ "$new" = "$zero" ]; then
                if [ "$\(mayDeleteVariable)" = 1 ]; then \(refuse(BranchChangeRefusal.deleteProtectedOverPush)); else \(refuse(BranchChangeRefusal.deleteProtected)); fi
              elif [ "$old" = "$zero" ]; then
                if [ "$push" = 0 ] && [ "$merge" = 0 ]; then \(refuse(BranchChangeRefusal.createProtected)); fi
              elif [ "$push" = 0 ]; then
                \(refuse(.pushToProtected))
              elif [ "$force" = 0 ] && ! git merge-base --is-ancestor "$old" "$new" 2>/dev/null; then
                \(refuse(.forcePushToProtected))
              fi
            done <<LATCHKEY_REFS
            $input
            LATCHKEY_REFS
            exit $status

            """
    }

    /// Writes the hook beside the other shared hooks.
    static func install(in hooksDirectory: URL) throws {
        let hook = hooksDirectory.appendingPathComponent("pre-receive")
        try Data(script.utf8).write(to: hook, options: .atomic)
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: hook.path)
    }

    /// The rules file's text for one pusher.
    static func rules(_ branches: [ProtectedBranchGrant], tags: [ProtectedTagGrant]) -> String {
        branches.map { "B \($0.mayPush ? 1 : 0) \($0.mayMerge ? 1 : 0) \($0.allowsForcePush ? 1 : 0) \($0.pattern)\n" }.joined()
            + tags.map { "T \($0.mayCreate ? 1 : 0) 0 0 \($0.pattern)\n" }.joined()
    }
}

extension ServerEnvironment {
    /// The CGI variables that let the hook check one push by `actor`, with the rules file they name (removed by the caller).
    func protectedBranchPushEnvironment(project: Project, actor: Actor, facts: ProjectAccessFacts) async throws -> (variables: [String: String], file: URL) {
        let branches = try await store.protectedBranches.rules(projectID: project.id)
        let tags = try await store.protectedTags.rules(projectID: project.id)
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("latchkey-push-rules-\(UUID().uuidString)")
        let text = ProtectedBranchHook.rules(AccessPolicy.grants(actor, branches, on: facts), tags: AccessPolicy.grants(actor, tags, on: facts))
        try Data(text.utf8).write(to: file, options: .atomic)
        let mayDelete = authorizer.allows(actor, .adminProject, facts)
        return (
            [
                ProtectedBranchHook.rulesVariable: file.path, ProtectedBranchHook.defaultBranchVariable: project.defaultBranch,
                ProtectedBranchHook.mayDeleteVariable: mayDelete ? "1" : "0",
            ], file
        )
    }

    /// Whether `ref` is protected, which decides whether protected CI/CD variables reach its pipelines (GitLab's `protected_ref?`):
    /// a tag by the protected tag rules, a branch by the protected branch rules.
    func isProtectedRef(_ ref: String, isTag: Bool, projectID: Int64) async throws -> Bool {
        if isTag { return try await store.protectedTags.rules(projectID: projectID).protects(ref) }
        return try await store.protectedBranches.rules(projectID: projectID).protects(ref)
    }
}
