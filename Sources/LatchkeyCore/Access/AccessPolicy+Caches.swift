extension AccessPolicy {
    /// Which side of GitLab's separated caches a job's `cache:` keys take (`Ci::Build#cache_suffix_for`): `protected` for
    /// pipelines on protected refs and for Maintainers and above, `non_protected` otherwise or with `unprotect: true`. A
    /// Developer's pipeline on an unprotected branch thus never writes a cache that protected pipelines restore.
    public static func cacheKeySuffix(unprotect: Bool, refProtected: Bool, memberLevel: AccessLevel?) -> String {
        if unprotect { return "non_protected" }
        if let memberLevel, memberLevel >= .maintainer { return "protected" }
        return refProtected ? "protected" : "non_protected"
    }
}
