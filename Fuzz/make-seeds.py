#!/usr/bin/env python3
"""Writes the hand-picked seed corpus of every fuzz target into Corpus/<target>/ (run once; the fuzzers add the rest).

Names starting with `issue-10-` are the inputs that crashed the release build (issue 10)."""
import hashlib
import os

HERE = os.path.dirname(os.path.abspath(__file__))

seeds = {
    "ContentRange": [
        ("issue-10-empty-end", b"0-/"),
        *[(None, s) for s in [b"0-0", b"0-99", b"100-199", b"5-4", b"bytes 0-99/100", b"bytes 0-99/*", b"BYTES 10-20/30",
            b"0-", b"-5", b"-", b"", b" 0-1 ", b"1-0", b"9223372036854775807-9223372036854775806",
            b"9223372036854775808-1", b"0-9223372036854775807", b"+1-2", b"0x1-2", b"1--2", b"bytes  0-1/2/3", b"0-1/",
            b"\xff\xfe-1", b"1-2-3", b"bytes 0-99/abc", b"\x00-\x00", b"0" * 130 + b"-1"]],
    ],
    "RangeHeader": [(None, s) for s in [b"bytes=0-9", b"bytes=5-", b"bytes=-10", b"bytes=-1000", b"bytes=90-1000", b"bytes=99-99",
        b"bytes=", b"bytes=-", b"bytes=-0", b"bytes=100-", b"bytes=5-3", b"bytes=a-b", b"bytes=0-9,20-29", b"bytes=--5", b"bytes=-5-",
        b"bytes=99999999999999999999-", b"bytes=0-99999999999999999999", b"bytes=-9223372036854775807", b"bytes=-9223372036854775808",
        b"bytes=9223372036854775807-9223372036854775807", b"items=0-9", b"bytes=+5-9", b"", b"bytes=0--1", b"bytes= 0-1",
        b"bytes=0-1 ", b"bytes=\xff-1", b"BYTES=0-1"]],
    "Multipart": [
        ("issue-10-part-without-headers", b"multipart/form-data; boundary=b\n--b\r\n\r\nx\r\n--b--"),
        *[(None, b"multipart/form-data; boundary=" + boundary + b"\n" + body) for boundary, body in [
            (b"b", b'--b\r\nContent-Disposition: form-data; name="a"\r\n\r\n1\r\n--b--\r\n'),
            (b"b", b'--b\r\nContent-Disposition: form-data; name="file"; filename="a.zip"\r\nContent-Type: application/zip\r\n\r\nPK\x03\x04\r\n--b--'),
            (b"b", b'preamble\r\n--b\r\nContent-Disposition: form-data; name="x"\r\n\r\n\r\n--b--epilogue'),
            (b"b", b'--b \t\r\nContent-Disposition: form-data; name="x"\r\n\r\ny\r\n--b--'),
            (b"b", b'--b\r\nContent-Disposition: form-data; name="a;b"; filename="C:\\\\x\\"y"\r\n\r\nz\r\n--b--'),
            (b"b", b'--b\r\nContent-Disposition: form-data\r\n\r\nno name\r\n--b--'),
            (b"b", b'--b\r\n\r\n\r\n--b\r\n\r\n\r\n--b--'),
            (b"b", b"--b\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\n--b\r\n--b--"),
            (b"b", b"--b\r\nX: y"),
            (b"b", b"--b--"),
            (b"b", b""),
            (b"b", b"--bb\r\n\r\nx\r\n--b--"),
            (b"b", b"--b\nContent-Disposition: form-data; name=\"a\"\n\nx\n--b--"),
            (b'"quoted b"', b'--quoted b\r\nContent-Disposition: form-data; name="q"\r\n\r\nv\r\n--quoted b--'),
            (b"-" * 70, b"--" + b"-" * 70 + b"\r\n\r\nx\r\n--" + b"-" * 70 + b"--"),
            (b"b", b"--b\r\nContent-Disposition: form-data; name=\"\xff\xfe\"\r\n\r\n\xff\r\n--b--"),
            (b"b", b"--b\r\n" + b"X-Long: " + b"a" * 2000 + b"\r\n\r\nx\r\n--b--"),
            (b"b", b"--b\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\n\r\n--b\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\n2\r\n--b--"),
        ]],
        (None, b"multipart/form-data\n--b\r\n\r\nx\r\n--b--"),
        (None, b"multipart/form-data; boundary=\n--\r\n\r\nx\r\n----"),
        (None, b"text/plain; boundary=b\n--b\r\n\r\nx\r\n--b--"),
    ],
    "URLEncodedForm": [(None, s) for s in [b"expire_in=1+week", b"name=a%2Bb&x=1&x=2", b"bad=%zz&empty=&flag", b"", b"&&&", b"=",
        b"==", b"a==b", b"%", b"%%", b"%2", b"%FF%FE", b"%C3%A9t%C3%A9", b"scope%5B%5D=a&scope%5B%5D=b", b"variables[KEY]=v",
        b"a=%00b", b"+=+", b"%E2%82", b"\xff=\xfe", b"a=1;b=2", b"a" * 300 + b"=" + b"%41" * 100]],
    "JSONParameters": [(None, s) for s in [b'{"a":1}', b'{"token":"x","tags":["a","b"]}', b"[]", b"{}", b"null", b"1e300", b'{"a":1e300}',
        b'{"a":-0}', b'{"a":9007199254740993}', b'{"a":"\\ud800"}', b'{"a":"\\u0000"}', b'{"a":{"b":{"c":[1,2,{"d":null}]}}}',
        b'{"a":1,"a":2}', b"{", b'{"a":}', b"\xef\xbb\xbf{}", b'{"\xff":1}', b"[" * 600 + b"]" * 600, b'{"a":' + b"[" * 3000 + b"]" * 3000 + b"}",
        b'{"variables":[{"key":"K","value":1}]}', b'{"a":true,"b":false}', b"  {}  ", b'"text"', b"{}{}"]],
    "Duration": [
        ("issue-10-300000000-years", b"300000000 years"),
        ("issue-10-9300000000000000", b"9300000000000000"),
        *[(None, s) for s in [b"1h 30m", b"30 minutes", b"3600", b"1 week", b"never", b"NEVER ", b"1:30:00", b"1:2:3:4:5:6:7",
            b"1:2:3:4:5:6:7:8", b"0", b"0.5", b"1.5 days", b"2 hrs and 3 mins", b"day", b"minute 30 sec", b"1e9 years", b"1.",
            b".5", b"1..2", b"two hours", b"1h30m", b"-1 day", b"1e308", b"9" * 400 + b" years", b"1 year 1 month 1 week 1 day",
            b"\t1\nh", b"::", b"1:", b"1 fortnight", b"1 y", b"\xff", b"99999999999999999999:0"]],
    ],
    "Cron": [(None, s) for s in [b"0 0 * * *", b"*/5 * * * *", b"0 9-17/2 * * MON-FRI", b"@daily", b"@hourly", b"@weekly", b"@yearly",
        b"@reboot", b"0 0 31 2 *", b"0 0 29 2 *", b"30 2 * * *", b"0 0 1 JAN,jul *", b"0 0 * * 7", b"0 0 * * 0-7", b"60 * * * *",
        b"* 24 * * *", b"* * 0 * *", b"* * * 13 *", b"* * * * 8", b"*/0 * * * *", b"5-1 * * * *", b"1/5 * * * *", b"* * * * * *",
        b"", b"  ", b"* * * *", b"0,,1 * * * *", b"9999999999999999999 * * * *", b"*/99999999999999999999 * * * *", b"0 0 L * *",
        b"0 0 1#2 * *", b"\xff * * * *", b"0 0 1-31/7 * SUN"]],
    "CIConfig": [(None, s) for s in [
        b"test:\n  script: echo hi\n",
        b"stages: [build, test]\nbuild:\n  stage: build\n  script: [make]\ntest:\n  stage: test\n  script: make test\n  needs: [build]\n",
        b"job:\n  script: x\n  artifacts:\n    paths: [out]\n    expire_in: 300000000 years\n",
        b"job:\n  script: x\n  timeout: 3h 30m\n",
        b"job:\n  script: x\n  when: delayed\n  start_in: 2 weeks\n",
        b"job:\n  script: x\n  rules:\n    - if: $CI_COMMIT_BRANCH == \"main\"\n      when: delayed\n      start_in: 1 day\n",
        b"job:\n  script: x\n  rules:\n    - if: $A =~ /^(a|aa)+$/\n",
        b".base: &base\n  script: x\njob:\n  <<: *base\n",
        b"a: &a [1,1,1,1,1,1,1,1,1]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\nc: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]\nd: [*c,*c,*c,*c,*c,*c,*c,*c,*c]\n",
        b".a:\n  script: x\njob:\n  extends: .a\n",
        b".a:\n  extends: .b\n.b:\n  extends: .a\njob:\n  extends: .a\n",
        b"job:\n  script: !reference [.x, script]\n.x:\n  script: y\n",
        b"include: other.yml\n",
        b"workflow:\n  rules:\n    - if: $CI_PIPELINE_SOURCE == 'push'\njob:\n  script: x\n",
        b"job:\n  script: x\n  parallel:\n    matrix:\n      - A: [1, 2]\n        B: [x, y]\n",
        b"job:\n  script: x\n  parallel: 2000\n",
        b"job:\n  script: x\n  retry:\n    max: 2\n    when: [script_failure]\n",
        b"job:\n  script: x\n  id_tokens:\n    T:\n      aud: https://x\n",
        b"variables:\n  A: 1\n  B:\n    value: x\n    description: y\njob:\n  script: echo $A\n",
        b"", b"   \n", b"[]", b"- a\n- b\n", b"job: [", b"{job: {script: x}}", b"\xff\xfe", b"job:\n\tscript: x\n",
        b"job:\n  script: x\n  needs: [nope]\n", b"job:\n  script: x\n  trigger: other\n",
        b"a: " + b"[" * 200 + b"]" * 200 + b"\n",
        b"job:\n  script: x\n  cache:\n    key: k\n    paths: [a]\n",
        b"job:\n  image: alpine\n  services: [postgres]\n  script: x\n",
        b"job:\n  script: x\n  only: [main]\n  except: [tags]\n",
    ]],
    "ArtifactEntryName": [(None, s) for s in [b"a.txt", b"dir/a.txt", b"dir/", b"/etc/passwd", b"../x", b"a/../../x", b"./a", b"a/./b",
        b"a//b", b"a\x00b", b"", b".", b"..", b"...", b"..a", b"a..", b"\\x", b"\\..\\x", b"a\\..\\b", b"C:\\x", b"\xff\xfe",
        b"a/" * 100 + b"b", b"dir/.hidden", b" ", b"a/b/c/d.log", b"%2e%2e/x"]],
    "GitRefName": [(None, s) for s in [b"main", b"feature/x", b"v1.0.0", b"refs/heads/main", b"refs/tags/v1", b"-x", b"--upload-pack=x",
        b"a..b", b"a^", b"a~1", b"a@{1}", b"@", b"a:b", b"a b", b"a\\b", b"a\x00b", b".a", b"a/.b", b"a.lock", b"a/b.lock/c",
        b"a/", b"/a", b"a//b", b"a.", b"a*", b"a?", b"a[", b"\x7f", b"\t", b"\xc3\xa9t\xc3\xa9", b"\xff", b"x" * 300, b"HEAD",
        b"0123456789abcdef0123456789abcdef01234567", b"@{-1}", b"a@b", b"refs/tags/", b"v1.0@"]],
    "GraphQL": [
        ("issue-10-nested-3000", b"query{" + b"a{" * 3000 + b"b" + b"}" * 3001),
        *[(None, s) for s in [b"{ currentUser { id } }", b"query { project(fullPath: \"a/b\") { id name ciJobTokenScope { projects { nodes { id } } } } }",
            b"query Q($p: ID!) { project(fullPath: $p) { id } }", b"mutation { ciJobTokenScopeAddProject(input: {projectPath: \"a\", targetProjectPath: \"b\"}) { errors } }",
            b"fragment F on Project { id name } query { project(fullPath: \"x\") { ...F ...F } }",
            b"fragment A on Q { ...B ...B } fragment B on Q { ...C ...C } fragment C on Q { a b } { ...A }",
            b"fragment A on Q { ...A } { ...A }",
            b"{ a: x b: x c: x d: x e: x f: x g: x h: x }",
            b"{ a(x: [[[[[[1]]]]]]) }", b"{ a(x: {a: {b: {c: 1}}}) }",
            b"{ ... on Q { ... on Q { ... on Q { a } } } }",
            b"# comment {{{{\n{ a }", b"{ a(s: \"{{{{\") }", b"{ a(s: \"\"\"{{{\\\"\"\"{{\"\"\") }",
            b"", b"{", b"}", b"{}", b"query", b"{ a", b"\xff", b"{ a(x: $) }", b"subscription { a }",
            b"{" * 70 + b"}" * 70, b"[" * 70, b"(" * 70, b"{ " + b"a " * 1200 + b"}",
            b"{" + b"a{" * 16 + b"b" + b"}" * 17, b"{" + b"a{" * 21 + b"b" + b"}" * 22]],
    ],
}

for target, items in seeds.items():
    folder = os.path.join(HERE, "Corpus", target)
    os.makedirs(folder, exist_ok=True)
    for name, data in items:
        # libFuzzer names the inputs it adds by SHA-1; seeds keep a readable prefix.
        name = name or "seed-" + hashlib.sha1(data).hexdigest()[:12]
        with open(os.path.join(folder, name), "wb") as f:
            f.write(data)
    print(target, len(items))
