"""Real-client checks against a running Latchkey: python-gitlab and git, as users would drive it.

Prints one line per check and a closing "N passed, N failed" line; exits non-zero on any failure.
"""
import base64
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
                "    - curl -sf -H \"JOB-TOKEN: $CI_JOB_TOKEN\" \"$CI_API_V4_URL/job\"\n"
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


failed = [name for name, error in results if error]
print(f"{len(results) - len(failed)} passed, {len(failed)} failed")
sys.exit(1 if failed else 0)
