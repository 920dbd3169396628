"""Real-client checks against a running Latchkey: python-gitlab and git, as users would drive it.

Prints one line per check and a closing "N passed, N failed" line; exits non-zero on any failure.
"""
import base64
import hashlib
import os
import subprocess
import sys
import tempfile
import time
import traceback

import gitlab

URL = os.environ["LATCHKEY_URL"]
ROOT_TOKEN = os.environ["LATCHKEY_ROOT_TOKEN"]
results = []


def check(name):
    def run(function):
        try:
            function()
            results.append((name, None))
            print(f"ok   {name}")
        except Exception as error:  # noqa: BLE001 - every failure is reported, none stops the run
            results.append((name, error))
            print(f"FAIL {name}: {error!r}")
            traceback.print_exc()
        return function
    return run


def git(*args, cwd=None):
    env = dict(os.environ, GIT_TERMINAL_PROMPT="0", GIT_AUTHOR_NAME="Alice", GIT_AUTHOR_EMAIL="alice@example.com",
               GIT_COMMITTER_NAME="Alice", GIT_COMMITTER_EMAIL="alice@example.com")
    return subprocess.run(["git", *args], cwd=cwd, env=env, check=True, capture_output=True, text=True).stdout


def wait_for(predicate, timeout=90, what="condition"):
    deadline = time.time() + timeout
    while time.time() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.3)
    raise AssertionError(f"timed out waiting for {what}")


gl = gitlab.Gitlab(URL, private_token=ROOT_TOKEN)
state = {}


@check("python-gitlab authenticates as root")
def _():
    gl.auth()
    assert gl.user.username == "root"


@check("gl.users.create makes a user, and an admin token for it works")
def _():
    user = gl.users.create({"username": "alice", "name": "Alice", "email": "alice@example.com", "password": "alice-password-1"})
    token = user.personal_access_tokens.create({"name": "ci", "scopes": ["api", "write_repository"]})
    state["alice"] = user
    state["alice_token"] = token.token
    alice = gitlab.Gitlab(URL, private_token=token.token)
    alice.auth()
    assert alice.user.username == "alice"


@check("gl.groups.create makes nested groups")
def _():
    group = gl.groups.create({"name": "Platform", "path": "platform"})
    sub = gl.groups.create({"name": "Tools", "path": "tools", "parent_id": group.id})
    assert sub.full_path == "platform/tools"
    state["group"] = sub


@check("gl.projects.create in a group, and lookup by full path")
def _():
    project = gl.projects.create({"name": "builder", "namespace_id": state["group"].id, "visibility": "private"})
    state["project"] = project
    assert gl.projects.get("platform/tools/builder").id == project.id


@check("project.members.create gives alice Developer")
def _():
    member = state["project"].members.create({"user_id": state["alice"].id, "access_level": 30})
    assert member.access_level == 30
    assert any(m.username == "alice" for m in state["project"].members.list(get_all=True))


@check("list(get_all=True) walks pagination")
def _():
    for index in range(23):
        gl.projects.create({"name": f"bulk-{index}"})
    projects = gl.projects.list(get_all=True, per_page=5)
    assert len(projects) >= 24, len(projects)


@check("git push creates a pipeline whose job runs on the embedded runner and uses CI_JOB_TOKEN")
def _():
    project = state["project"]
    with tempfile.TemporaryDirectory() as work:
        git("init", "-q", "-b", "main", work)
        with open(os.path.join(work, ".gitlab-ci.yml"), "w") as handle:
            handle.write(
                "job:\n"
                "  script:\n"
                "    - 'curl -sf -H \"JOB-TOKEN: $CI_JOB_TOKEN\" \"$CI_API_V4_URL/job\"'\n"
                "    - echo \"token $CI_JOB_TOKEN\"\n"
                "    - printf '%s' \"$CI_JOB_TOKEN\" | base64\n"
            )
        git("add", ".", cwd=work)
        git("commit", "-qm", "ci", cwd=work)
        remote = URL.replace("://", f"://alice:{state['alice_token']}@") + "/platform/tools/builder.git"
        git("push", "-q", remote, "main", cwd=work)
    pipelines = project.pipelines.list(get_all=True)
    assert len(pipelines) == 1 and pipelines[0].user["username"] == "alice", pipelines
    pipeline = project.pipelines.get(pipelines[0].id)
    assert not pipeline.yaml_errors, pipeline.yaml_errors
    wait_for(lambda: project.pipelines.get(pipeline.id).status in ("success", "failed"), what="pipeline to finish")
    job = pipeline.jobs.list(get_all=True)[0]
    full = project.jobs.get(job.id)
    trace = full.trace().decode()
    assert full.status == "success", trace
    assert f'"id":{job.id}' in trace.replace(" ", ""), trace
    assert "[MASKED]" in trace, trace
    assert "glcbt-" not in trace.replace("glcbt-[MASKED]", ""), trace
    state["job"] = full


@check("pipeline schedules: create, list, play as the owner")
def _():
    project = state["project"]
    schedule = project.pipelineschedules.create({"description": "nightly", "ref": "main", "cron": "0 3 * * *", "cron_timezone": "UTC"})
    assert [s.id for s in project.pipelineschedules.list(get_all=True)] == [schedule.id]
    schedule.play()
    wait_for(lambda: any(p.source == "schedule" for p in project.pipelines.list(get_all=True)), what="scheduled pipeline")


# The job token scope, as python-gitlab's own functional tests drive it (tests/functional/api/test_job_token_scope.py).
@check("job_token_scope.get() shows the scope on for a new project")
def _():
    project = gl.projects.create({"name": "scoped"})
    state["scoped"] = project
    scope = project.job_token_scope.get()
    assert scope.inbound_enabled is True and scope.outbound_enabled is False, scope.attributes


@check("scope.enabled = False; scope.save(); scope.refresh() turns the scope off, and back on")
def _():
    scope = state["scoped"].job_token_scope.get()
    scope.enabled = False
    scope.save()
    scope.refresh()
    assert not scope.inbound_enabled
    scope.enabled = True
    scope.save()
    scope.refresh()
    assert scope.inbound_enabled


@check("scope.allowlist.create/list/delete manage the project allowlist")
def _():
    project = state["scoped"]
    scope = project.job_token_scope.get()
    project_to_add = gl.projects.create({"name": "Ci_Cd_token_add_proj"})
    resp = scope.allowlist.create({"target_project_id": project_to_add.id})
    assert resp.source_project_id == project.id
    assert resp.target_project_id == project_to_add.id
    scope.refresh()
    listed = scope.allowlist.list(get_all=True)
    assert any(allowed.name == "Ci_Cd_token_add_proj" for allowed in listed), [p.name for p in listed]
    assert any(allowed.id == project.id for allowed in listed), "the project itself is always on its allowlist"
    scope.allowlist.delete(project_to_add.id)
    scope.refresh()
    assert not any(allowed.id == project_to_add.id for allowed in scope.allowlist.list(get_all=True))
    try:
        scope.allowlist.delete(project_to_add.id)
        raise AssertionError("deleting an unlisted project succeeded")
    except gitlab.exceptions.GitlabDeleteError as error:
        assert error.response_code == 404, error


@check("scope.groups_allowlist.create/list/delete manage the group allowlist")
def _():
    project = state["scoped"]
    scope = project.job_token_scope.get()
    group_to_add = gl.groups.create({"name": "list_group", "path": "allowlisted-add-and-list-test"})
    resp = scope.groups_allowlist.create({"target_group_id": group_to_add.id})
    assert resp.source_project_id == project.id
    assert resp.target_group_id == group_to_add.id
    scope.refresh()
    assert any(allowed.name == "list_group" for allowed in scope.groups_allowlist.list(get_all=True))
    scope.groups_allowlist.delete(group_to_add.id)
    scope.refresh()
    assert not any(allowed.name == group_to_add.name for allowed in scope.groups_allowlist.list(get_all=True))


@check("a duplicate allowlist entry is refused with 400")
def _():
    scope = state["scoped"].job_token_scope.get()
    target = gl.projects.create({"name": "Ci_Cd_token_dup_proj"})
    state["duplicate"] = target
    scope.allowlist.create({"target_project_id": target.id})
    try:
        scope.allowlist.create({"target_project_id": target.id})
        raise AssertionError("a duplicate entry was accepted")
    except gitlab.exceptions.GitlabCreateError as error:
        assert error.response_code == 400, error


@check("GraphQL: project(fullPath) shows the allowlist, and ciJobTokenScopeAddGroupOrProject adds to it")
def _():
    project = state["scoped"]
    query = "query($p: ID!) { project(fullPath: $p) { ciJobTokenScope { inboundAllowlist { nodes { fullPath } } inboundAllowlistCount } } }"
    answer = gl.http_post(URL + "/api/graphql", post_data={"query": query, "variables": {"p": project.path_with_namespace}})
    paths = [node["fullPath"] for node in answer["data"]["project"]["ciJobTokenScope"]["inboundAllowlist"]["nodes"]]
    assert paths[0] == project.path_with_namespace and state["duplicate"].path_with_namespace in paths, paths
    mutation = ("mutation($p: ID!, $t: ID!) { ciJobTokenScopeAddGroupOrProject(input: {projectPath: $p, targetPath: $t, "
                "jobTokenPolicies: [READ_JOBS]}) { errors ciJobTokenScope { groupsAllowlistCount } } }")
    group = gl.groups.create({"name": "graphql_group", "path": "graphql-allowlisted"})
    result = gl.http_post(URL + "/api/graphql", post_data={"query": mutation, "variables": {"p": project.path_with_namespace, "t": group.full_path}})
    payload = result["data"]["ciJobTokenScopeAddGroupOrProject"]
    assert payload["errors"] == [] and payload["ciJobTokenScope"]["groupsAllowlistCount"] == 1, result


# --- job_token: what a running job's CI_JOB_TOKEN opens, driven through python-gitlab's `job_token=` ---


def push_project(name, files, group=None):
    """Creates a private project as root (in `group` if given), pushes `files` to main, and returns the project."""
    attributes = {"name": name, "visibility": "private"}
    if group is not None:
        attributes["namespace_id"] = group.id
    project = gl.projects.create(attributes)
    with tempfile.TemporaryDirectory() as work:
        git("init", "-q", "-b", "main", work)
        for path, content in files.items():
            with open(os.path.join(work, path), "w") as handle:
                handle.write(content)
        git("add", ".", cwd=work)
        git("commit", "-qm", "ci", cwd=work)
        git("push", "-q", URL.replace("://", f"://root:{ROOT_TOKEN}@") + f"/{project.path_with_namespace}.git", "main", cwd=work)
    return project


@check("job_token: a producer pipeline keeps artifacts, and a holder job hands over its live token")
def _():
    producer = push_project("jt-producer", {".gitlab-ci.yml": "test:\n  script:\n    - mkdir -p dist && echo built > dist/out.txt\n  artifacts:\n    paths: [dist/]\n"})
    wait_for(lambda: producer.pipelines.list(get_all=True) and producer.pipelines.list(get_all=True)[0].status in ("success", "failed"), what="producer pipeline")
    assert producer.pipelines.list(get_all=True)[0].status == "success"
    # The job is sandboxed: it can write only into its own workspace, which the runner makes under LATCHKEY_BUILDS.
    holder = push_project("jt-holder", {".gitlab-ci.yml": "hold:\n  script:\n    - printf '%s' \"$CI_JOB_TOKEN\" > \"$CI_PROJECT_DIR/.handoff\"\n    - sleep 300\n"})
    producer.job_token_scope.get().allowlist.create({"target_project_id": holder.id})
    builds = os.environ["LATCHKEY_BUILDS"]

    def handed_over():
        for name in os.listdir(builds) if os.path.isdir(builds) else []:
            path = os.path.join(builds, name, ".handoff")
            if os.path.exists(path) and open(path).read().startswith("glcbt-"):
                return open(path).read()
        return None

    token = wait_for(handed_over, what="job token handoff")
    state["jt_producer"], state["jt_holder"], state["jt_token"] = producer, holder, token
    state["jt"] = gitlab.Gitlab(URL, job_token=token)


@check("job_token: project.artifacts.download(ref_name=, job=) and jobs.get(id, lazy=True).artifacts() return the zip")
def _():
    import io
    import zipfile
    project = state["jt"].projects.get(state["jt_producer"].id, lazy=True)
    archive = project.artifacts.download(ref_name="main", job="test")
    assert zipfile.ZipFile(io.BytesIO(archive)).read("dist/out.txt") == b"built\n"
    job_id = state["jt_producer"].jobs.list(get_all=True)[0].id
    assert project.jobs.get(job_id, lazy=True).artifacts() == archive
    assert project.artifacts.raw("main", "dist/out.txt", "test") == b"built\n"


@check("job_token: generic_packages.upload and .download round-trip a file")
def _():
    project = state["jt"].projects.get(state["jt_producer"].id, lazy=True)
    project.generic_packages.upload(package_name="tool", package_version="1.0.0", file_name="tool.txt", data=b"tool bytes")
    assert project.generic_packages.download(package_name="tool", package_version="1.0.0", file_name="tool.txt") == b"tool bytes"
    assert [p.name for p in state["jt_producer"].packages.list(get_all=True)] == ["tool"]


@check("job_token: trigger_pipeline(ref, token=CI_JOB_TOKEN) starts a pipeline with source 'pipeline'")
def _():
    project = state["jt"].projects.get(state["jt_producer"].id, lazy=True)
    pipeline = project.trigger_pipeline("main", state["jt_token"], variables={"FROM": "holder"})
    assert pipeline.source == "pipeline", pipeline.source
    assert state["jt_producer"].pipelines.get(pipeline.id).source == "pipeline"


@check("job_token: releases.create makes the release and its tag")
def _():
    project = state["jt"].projects.get(state["jt_producer"].id, lazy=True)
    release = project.releases.create({"tag_name": "v1.0-jt", "ref": "main", "description": "made by a job"})
    assert release.tag_name == "v1.0-jt"
    assert [t.name for t in state["jt_producer"].tags.list(get_all=True)] == ["v1.0-jt"]
    assert state["jt_producer"].releases.get("v1.0-jt").description == "made by a job"


@check("job_token: canceling the holder job kills its token (401)")
def _():
    holder = state["jt_holder"]
    job = holder.jobs.list(get_all=True)[0]
    holder.jobs.get(job.id).cancel()
    wait_for(lambda: holder.jobs.get(job.id).status == "canceled", what="holder job to be canceled")
    try:
        state["jt"].projects.get(state["jt_producer"].id, lazy=True).artifacts.download(ref_name="main", job="test")
    except (gitlab.exceptions.GitlabAuthenticationError, gitlab.exceptions.GitlabGetError) as error:
        assert error.response_code == 401, error.response_code
    else:
        raise AssertionError("a canceled job's token still worked")


@check("gl.personal_access_tokens: list with filters, get by id and 'self'; a new token expires within GitLab's 365 days")
def _():
    user = gl.users.create({"username": "tokenuser", "name": "Token User", "email": "tokenuser@example.com", "password": "token-password-1"})
    first = user.personal_access_tokens.create({"name": "first", "scopes": ["api"]})
    second = user.personal_access_tokens.create({"name": "second-ci", "scopes": ["read_api"]})
    assert first.expires_at is not None
    state["tu"] = user
    state["tu_first"] = first.token
    tu = gitlab.Gitlab(URL, private_token=first.token)
    assert sorted(t.name for t in tu.personal_access_tokens.list(get_all=True)) == ["first", "second-ci"]
    assert [t.name for t in tu.personal_access_tokens.list(search="ci", get_all=True)] == ["second-ci"]
    assert [t.user_id for t in gl.personal_access_tokens.list(user_id=user.id, get_all=True)] == [user.id, user.id]
    me = tu.personal_access_tokens.get("self")
    assert me.name == "first" and me.active and me.user_id == user.id
    assert tu.personal_access_tokens.get(second.id).name == "second-ci"
    try:
        tu.personal_access_tokens.list(user_id=state["alice"].id, get_all=True)
    except (gitlab.exceptions.GitlabAuthenticationError, gitlab.exceptions.GitlabListError) as error:
        assert error.response_code == 401, error.response_code
    else:
        raise AssertionError("a user listed someone else's tokens")
    alices = gl.personal_access_tokens.list(user_id=state["alice"].id, get_all=True)
    try:
        tu.personal_access_tokens.get(alices[0].id)
    except (gitlab.exceptions.GitlabAuthenticationError, gitlab.exceptions.GitlabGetError) as error:
        assert error.response_code == 401, error.response_code
    else:
        raise AssertionError("a user read someone else's token")


@check("personal access tokens rotate (by id and self_rotate=True): the new token works, the old one is 401 at once")
def _():
    tu = gitlab.Gitlab(URL, private_token=state["tu_first"])
    old = tu.personal_access_tokens.get("self")
    token = tu.personal_access_tokens.get(old.id, lazy=True)
    token.rotate()
    rotated = token.token
    assert rotated and rotated != state["tu_first"]
    try:
        tu.personal_access_tokens.get("self")
    except gitlab.exceptions.GitlabAuthenticationError as error:
        assert error.response_code == 401, error.response_code
    else:
        raise AssertionError("a rotated token still worked")
    again = gitlab.Gitlab(URL, private_token=rotated)
    mine = again.personal_access_tokens.get("self")
    lazy = again.personal_access_tokens.get(mine.id, lazy=True)
    lazy.rotate(self_rotate=True)
    assert lazy.token and lazy.token != rotated
    state["tu_current"] = lazy.token
    by_admin = gl.personal_access_tokens.rotate(gitlab.Gitlab(URL, private_token=lazy.token).personal_access_tokens.get("self").id)
    assert by_admin["token"] and by_admin["name"] == "first"
    state["tu_current"] = by_admin["token"]


@check("personal access tokens delete('self') and delete(id) revoke: the next request with the token is 401")
def _():
    tu = gitlab.Gitlab(URL, private_token=state["tu_current"])
    other = state["tu"].personal_access_tokens.create({"name": "spare", "scopes": ["api"]})
    spare = gitlab.Gitlab(URL, private_token=other.token)
    spare.auth()
    tu.personal_access_tokens.delete(other.id)
    try:
        spare.auth()
    except gitlab.exceptions.GitlabAuthenticationError as error:
        assert error.response_code == 401, error.response_code
    else:
        raise AssertionError("a revoked token still worked")
    tu.personal_access_tokens.delete("self")
    try:
        tu.auth()
    except gitlab.exceptions.GitlabAuthenticationError as error:
        assert error.response_code == 401, error.response_code
    else:
        raise AssertionError("a token that revoked itself still worked")
    assert all(t.revoked for t in gl.personal_access_tokens.list(user_id=state["tu"].id, revoked=True, get_all=True))


@check("files.head, files.get and files.raw give GitLab's X-Gitlab-* headers and blob fields")
def _():
    project = push_project("files", {".gitlab-ci.yml": "x:\n  script: echo\n  rules: [{if: '$NEVER'}]\n", "README.md": "hello\n"})
    headers = project.files.head("README.md", ref="main")
    assert headers["X-Gitlab-File-Name"] == "README.md" and headers["X-Gitlab-Size"] == "6", dict(headers)
    blob = project.files.get(file_path="README.md", ref="main")
    assert blob.decode() == b"hello\n", blob.decode()
    assert blob.blob_id == headers["X-Gitlab-Blob-Id"] and blob.last_commit_id == headers["X-Gitlab-Last-Commit-Id"], (blob.attributes, dict(headers))
    assert project.files.raw("README.md", ref="main") == b"hello\n"


@check("when: delayed: the job is scheduled and job.play() runs it now; pipeline.cancel(), retry() and delete() work")
def _():
    project = push_project("delayed", {".gitlab-ci.yml": "later:\n  script: echo later\n  when: delayed\n  start_in: 30 minutes\n"})
    pipeline = wait_for(lambda: (project.pipelines.list(get_all=True) or [None])[0], what="the push's pipeline")
    job = wait_for(lambda: next((j for j in pipeline.jobs.list(get_all=True) if j.status == "scheduled"), None), what="a scheduled job")
    assert project.pipelines.get(pipeline.id).status == "scheduled"
    project.jobs.get(job.id, lazy=True).play()
    wait_for(lambda: project.jobs.get(job.id).status == "success", what="the played job to run")
    second = project.pipelines.create({"ref": "main"})
    wait_for(lambda: project.pipelines.get(second.id).status == "scheduled", what="the second pipeline to be scheduled")
    second.cancel()
    assert project.pipelines.get(second.id).status == "canceled"
    second.retry()
    wait_for(lambda: project.pipelines.get(second.id).status == "success", what="the retried pipeline to run")
    second.delete()
    try:
        project.pipelines.get(second.id)
    except gitlab.exceptions.GitlabGetError as error:
        assert error.response_code == 404, error.response_code
    else:
        raise AssertionError("a deleted pipeline is still there")


@check("trigger: pipeline.bridges.list() shows a child pipeline (strategy: depend) that ran, with source parent_pipeline")
def _():
    ci = "build:\n  script: echo build\nchild:\n  stage: deploy\n  trigger:\n    include: child.yml\n    strategy: depend\n"
    project = push_project("parent", {".gitlab-ci.yml": ci, "child.yml": "child-job:\n  script: echo from the child\n"})
    pipeline = wait_for(
        lambda: next((p for p in project.pipelines.list(get_all=True, source="push") if p.status in ("success", "failed")), None),
        timeout=120, what="the parent pipeline to finish")
    assert pipeline.status == "success", pipeline.status
    bridges = pipeline.bridges.list(get_all=True)
    assert [b.name for b in bridges] == ["child"] and bridges[0].status == "success", [(b.name, b.status) for b in bridges]
    downstream = bridges[0].downstream_pipeline
    assert downstream["source"] == "parent_pipeline" and downstream["status"] == "success", downstream
    assert [j.name for j in pipeline.jobs.list(get_all=True)] == ["build"]


@check("junit: a job's artifacts:reports:junit shows in pipeline.test_report.get() and test_report_summary.get()")
def _():
    xml = "<testsuite><testcase classname='spec' name='passes' time='0.5'/><testcase classname='spec' name='fails'><failure>no</failure></testcase></testsuite>"
    ci = "rspec:\n  script:\n    - echo \"" + xml.replace('"', '\\"') + "\" > rspec.xml\n  artifacts:\n    reports:\n      junit: rspec.xml\n"
    project = push_project("junit", {".gitlab-ci.yml": ci})
    pipeline = wait_for(
        lambda: next((p for p in project.pipelines.list(get_all=True) if p.status in ("success", "failed")), None), what="the pipeline to finish")
    assert pipeline.status == "success", pipeline.status
    report = pipeline.test_report.get()
    assert report.total_count == 2 and report.failed_count == 1, report.attributes
    assert [c["name"] for c in report.test_suites[0]["test_cases"]] == ["fails", "passes"], report.test_suites
    summary = pipeline.test_report_summary.get()
    assert summary.total["count"] == 2 and summary.test_suites[0]["name"] == "rspec", summary.attributes


@check("project access tokens: access_tokens.create/list/get, the bot's token works on its project only, rotate() and delete()")
def _():
    project = gl.projects.create({"name": "botted", "visibility": "private"})
    other = gl.projects.create({"name": "unbotted", "visibility": "private"})
    token = project.access_tokens.create({"name": "ci bot", "scopes": ["api"], "access_level": 30, "expires_at": "2027-06-01"})
    assert token.token.startswith("glpat-") and token.access_level == 30, token.attributes
    bot = gitlab.Gitlab(URL, private_token=token.token)
    bot.auth()
    assert bot.user.username.startswith(f"project_{project.id}_bot_"), bot.user.username
    bot.projects.get(project.id)
    try:
        bot.projects.get(other.id)
    except gitlab.exceptions.GitlabGetError as error:
        assert error.response_code == 404
    else:
        raise AssertionError("the bot reached another project")
    assert [t.name for t in project.access_tokens.list(get_all=True)] == ["ci bot"]
    assert project.access_tokens.get(token.id).active
    rotated = project.access_tokens.get(token.id, lazy=True)
    rotated.rotate()
    assert rotated.token != token.token
    project.access_tokens.delete(rotated.id)
    assert not project.access_tokens.get(rotated.id).active


@check("runners: gl.runners_all.list(), runners.get(), paused = True; save(), and runners.list() of owned runners")
def _():
    created = gl.user.runners.create({"runner_type": "instance_type", "description": "checks runner", "tag_list": ["checks"]})
    listed = gl.runners_all.list(get_all=True)
    assert any(r.id == created.id and r.description == "checks runner" for r in listed), [r.attributes for r in listed]
    assert any(r.name == "latchkey" for r in listed), "the embedded runner is listed"
    runner = gl.runners.get(created.id)
    assert runner.tag_list == ["checks"] and runner.status == "never_contacted", runner.attributes
    runner.paused = True
    runner.save()
    assert gl.runners.get(created.id).paused is True
    assert [r.id for r in gl.runners_all.list(paused=True, get_all=True)] == [created.id]
    assert gl.runners.list(get_all=True) == []
    gl.runners.delete(created.id)
    try:
        gl.runners.get(created.id)
    except gitlab.exceptions.GitlabGetError as error:
        assert error.response_code == 404, error.response_code
    else:
        raise AssertionError("a deleted runner is still there")

@check("repository writes: files.create/save/delete and commits.create with actions, as python-gitlab makes them")
def _():
    project = push_project("writes", {"README.md": "hello\n"})
    created = project.files.create({"file_path": "docs/notes.md", "branch": "main", "content": "one\n", "commit_message": "add notes"})
    assert created.file_path == "docs/notes.md", created.attributes
    notes = project.files.get("docs/notes.md", ref="main")
    notes.content = "two\n"
    notes.save(branch="main", commit_message="edit notes")
    assert project.files.raw("docs/notes.md", ref="main") == b"two\n"
    commit = project.commits.create({"branch": "main", "commit_message": "tidy", "actions": [
        {"action": "move", "file_path": "notes.md", "previous_path": "docs/notes.md"},
        {"action": "create", "file_path": "bin/run", "content": "echo\n", "execute_filemode": True},
    ]})
    assert commit.title == "tidy" and len(commit.parent_ids) == 1, commit.attributes
    assert project.files.raw("notes.md", ref="main") == b"two\n"
    project.files.delete(file_path="notes.md", branch="main", commit_message="drop notes")
    try:
        project.files.get("notes.md", ref="main")
    except gitlab.exceptions.GitlabGetError as error:
        assert error.response_code == 404, error.response_code
    else:
        raise AssertionError("a deleted file is still there")

@check("CI/CD variables: gl.variables (instance) and group.variables, inherited by a job in a subgroup; nearer levels win")
def _():
    parent = gl.groups.create({"name": "Vars", "path": "vars"})
    child = gl.groups.create({"name": "Team", "path": "team", "parent_id": parent.id})
    gl.variables.create({"key": "VAR_LEVEL", "value": "instance"})
    gl.variables.create({"key": "FROM_INSTANCE", "value": "i"})
    parent.variables.create({"key": "VAR_LEVEL", "value": "group"})
    parent.variables.create({"key": "FROM_GROUP", "value": "g", "masked": False})
    parent.variables.create({"key": "PROD_ONLY", "value": "never-here", "environment_scope": "production"})
    child.variables.create({"key": "VAR_LEVEL", "value": "subgroup"})
    variable = child.variables.get("VAR_LEVEL")
    variable.value = "team"
    variable.save()
    assert [v.key for v in child.variables.list(get_all=True)] == ["VAR_LEVEL"]
    assert gl.variables.get("FROM_INSTANCE").value == "i"
    script = ('test "$VAR_LEVEL" = team && test "$FROM_GROUP" = g && test "$FROM_INSTANCE" = i && test -z "$PROD_ONLY" && echo inherited-ok')
    project = push_project("inherits", {".gitlab-ci.yml": "check:\n  script:\n    - '" + script + "'\n"}, group=child)
    pipeline = wait_for(lambda: (project.pipelines.list(get_all=True) or [None])[0], what="the push's pipeline")
    status = wait_for(lambda: (lambda p: p.status if p.status in ("success", "failed", "canceled") else None)(project.pipelines.get(pipeline.id)),
                      what="the pipeline to finish")
    job = project.jobs.list(get_all=True)[0]
    trace = project.jobs.get(job.id).trace().decode()
    assert status == "success" and "inherited-ok" in trace, (status, trace[-2000:])
    gl.variables.delete("VAR_LEVEL")
    gl.variables.delete("FROM_INSTANCE")


@check("environments and deployments: a deploy job on the embedded runner makes them; list/get/create, stop() and delete()")
def _():
    parent = gl.groups.create({"name": "Envs", "path": "envs"})
    parent.variables.create({"key": "PROD_ONLY", "value": "for-production", "environment_scope": "production"})
    ci = ("deploy:\n  script:\n    - 'echo \"env=$CI_ENVIRONMENT_NAME slug=$CI_ENVIRONMENT_SLUG tier=$CI_ENVIRONMENT_TIER prod=$PROD_ONLY\"'\n"
          "  environment:\n    name: production\n    url: https://shop.example.com\n")
    project = push_project("deploys", {".gitlab-ci.yml": ci}, group=parent)
    pipeline = wait_for(lambda: (project.pipelines.list(get_all=True) or [None])[0], what="the push's pipeline")
    status = wait_for(lambda: (lambda p: p.status if p.status in ("success", "failed", "canceled") else None)(project.pipelines.get(pipeline.id)),
                      what="the pipeline to finish")
    job = project.jobs.list(get_all=True)[0]
    trace = project.jobs.get(job.id).trace().decode()
    assert status == "success" and "env=production slug=production tier=production prod=for-production" in trace, (status, trace[-2000:])
    environments = project.environments.list(get_all=True)
    assert [e.name for e in environments] == ["production"], environments
    production = project.environments.get(environments[0].id)
    assert production.external_url == "https://shop.example.com" and production.state == "available"
    assert production.last_deployment["deployable"]["id"] == job.id, production.last_deployment
    deployments = project.deployments.list(get_all=True)
    assert [(d.iid, d.status, d.environment["name"]) for d in deployments] == [(1, "success", "production")], deployments
    manual = project.deployments.create({"environment": "staging", "sha": deployments[0].sha, "ref": "main", "tag": False, "status": "running"})
    manual.status = "success"
    manual.save()
    assert project.deployments.get(manual.id).status == "success"
    staging = project.environments.create({"name": "qa", "external_url": "https://qa.example.com"})
    assert staging.tier == "testing"
    try:
        project.environments.delete(staging.id)
        raise SystemExit("an available environment was deleted")
    except gitlab.exceptions.GitlabDeleteError as e:
        assert e.response_code == 403, e
    staging.stop()
    assert project.environments.get(staging.id).state == "stopped"
    project.environments.delete(staging.id)
    assert sorted(e.name for e in project.environments.list(get_all=True)) == ["production", "staging"]


@check("protected tags: protectedtags.create/list/get/delete, and tags.create says protected while a rule covers the tag")
def _():
    project = push_project("tagged", {"README.md": "hi\n"})
    project.protectedtags.create({"name": "v*", "create_access_level": gitlab.const.AccessLevel.MAINTAINER})
    assert [t.name for t in project.protectedtags.list(get_all=True)] == ["v*"]
    assert project.protectedtags.get("v*").create_access_levels[0]["access_level"] == 40
    tag = project.tags.create({"tag_name": "v1.0", "ref": "main"})
    assert tag.protected is True
    project.protectedtags.delete("v*")
    assert project.tags.get("v1.0").protected is False

@check("secure files: secure_files.create/list/get/download, and a job downloads one with its CI_JOB_TOKEN as download-secure-files does")
def _():
    ci = ("fetch:\n  script:\n"
          "    - 'id=$(curl -sf -H \"JOB-TOKEN: $CI_JOB_TOKEN\" \"$CI_API_V4_URL/projects/$CI_PROJECT_ID/secure_files\" | sed -E \"s/.*\\\"id\\\":([0-9]+).*/\\1/\")'\n"
          "    - 'curl -sf -H \"JOB-TOKEN: $CI_JOB_TOKEN\" -o signing.key \"$CI_API_V4_URL/projects/$CI_PROJECT_ID/secure_files/$id/download\"'\n"
          "    - 'sha256sum signing.key'\n"
          "  when: manual\n")
    project = push_project("secured", {".gitlab-ci.yml": ci})
    content = bytes(range(256)) * 8
    uploaded = project.secure_files.create({"name": "signing.key", "file": content})
    assert uploaded.checksum == hashlib.sha256(content).hexdigest() and uploaded.checksum_algorithm == "sha256"
    assert [f.name for f in project.secure_files.list(get_all=True)] == ["signing.key"]
    assert project.secure_files.get(uploaded.id).download() == content
    pipeline = wait_for(lambda: (project.pipelines.list(get_all=True) or [None])[0], what="the push's pipeline")
    job = wait_for(lambda: (project.jobs.list(get_all=True) or [None])[0], what="the manual job")
    project.jobs.get(job.id).play()
    status = wait_for(lambda: (lambda p: p.status if p.status in ("success", "failed", "canceled") else None)(project.pipelines.get(pipeline.id)),
                      what="the pipeline to finish")
    trace = project.jobs.get(job.id).trace().decode()
    assert status == "success" and hashlib.sha256(content).hexdigest() in trace, (status, trace[-2000:])
    project.secure_files.delete(uploaded.id)
    assert project.secure_files.list(get_all=True) == []

failed = [name for name, error in results if error]
print(f"{len(results) - len(failed)} passed, {len(failed)} failed")
sys.exit(1 if failed else 0)
