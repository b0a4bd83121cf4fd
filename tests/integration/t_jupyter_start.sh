#!/bin/bash
# No Jupyter on the remote: exit 7 naming --start-jupyter.  With
# --start-jupyter: a server bound to 127.0.0.1 only, its token in neither
# the remote ps output nor its log, the URL works, it outlives jconnect,
# a second run finds it, and `jconnect stop --jupyter` ends it.
. "$(dirname "$0")/lib.sh"

. "$(dirname "$0")/jupyter_lib.sh"

rig_start sshd agent aws

st=0
timeout 60 "$JC" --no-browser $SSH_OPTS "$SSH_TARGET" >"$T/out0" \
    2>"$T/err0" || st=$?
check "no server: exit 7 (got $st)" test "$st" = 7
[ "$st" = 7 ] || show "$T/err0" 40
check "no server: the message names --start-jupyter" \
    grep -q -- '--start-jupyter' "$T/err0"
check "no server: nothing on stdout" test ! -s "$T/out0"

jport=$(free_port)
jc_open_ok "--start-jupyter: URL printed" "$T/out1" "$T/err1" --start-jupyter --jupyter-port "$jport"
url=$(head -n1 "$T/out1")
port=$(url_port "$url")
token=$(url_token "$url")
pid=$(cat "$RHOME/.jconnect/jupyter.pid" 2>/dev/null)
_bg="${_bg:-} $pid"
check "a progress line on stderr" grep -q 'starting Jupyter on the remote' "$T/err1"
check "pid file written ($pid)" test -n "$pid"
check "token is 48 hex characters" sh -c "echo '$token' | grep -qE '^[0-9a-f]{48}\$'"
# Listening sockets on that port, from the kernel's tables (hex addr:port).
addrs=$(awk -v p=":$(printf '%04X' "$jport")" '$2 ~ p"$" && $4 == "0A" \
    { print $2 }' /proc/net/tcp /proc/net/tcp6 | tr '\n' ' ')
check "bound to 127.0.0.1 only ($addrs)" \
    test "$addrs" = "0100007F:$(printf '%04X' "$jport") "
ps -eo args >"$T/ps"
check "token absent from the remote ps output" \
    sh -c "! grep -q '$token' '$T/ps'"
check "ps shows the server bound to 127.0.0.1" grep -q -- '--ip=127.0.0.1' "$T/ps"
check "log in ~/.jconnect/jupyter.log" test -s "$RHOME/.jconnect/jupyter.log"
check "token absent from the remote log" \
    sh -c "! grep -q '$token' '$RHOME/.jconnect/jupyter.log'"
check "no token file left behind" test ! -e "$RHOME/.jconnect/jupyter.token"
check "~/.jconnect is 0700" test "$(stat -c %a "$RHOME/.jconnect")" = 700
check "api/status 200 through the tunnel" \
    test "$(api_status "$port" / "$token")" = 200
dom "$url" "$T/dom1"
check "Chromium reaches the logged-in page" grep -q 'id="logout"' "$T/dom1"
jc_close
check "the server outlives jconnect" kill -0 "$pid"
check "and still listens on $jport" port_busy "$jport"

# A second run finds the server jconnect started.
jc_open "$T/out2" "$T/err2"
url2=$(head -n1 "$T/out2")
check "second run finds it (same token)" test "$(url_token "$url2")" = "$token"
jc_close

st=0
timeout 60 "$JC" stop --jupyter $SSH_OPTS "$SSH_TARGET" >"$T/out3" \
    2>"$T/err3" || st=$?
check "stop --jupyter exits 0 (got $st)" test "$st" = 0
check "the server is gone" wait_for 10 sh -c "! kill -0 $pid"
check "its port is free" wait_for 10 port_free "$jport"
check "pid file removed" test ! -e "$RHOME/.jconnect/jupyter.pid"

# Over SSM the start script travels in the command line, which the
# remote's process list shows and AWS records with StartSession: the
# token is made on the remote and appears in neither.
jport=$(free_port)
SSH_OPTS="--via ssm -l $SSH_USER" SSH_TARGET=demo-stack \
    jc_open_ok "over SSM: --start-jupyter prints the URL" "$T/out4" \
    "$T/err4" --start-jupyter --jupyter-port "$jport"
url=$(head -n1 "$T/out4")
token=$(url_token "$url")
pid=$(cat "$RHOME/.jconnect/jupyter.pid" 2>/dev/null)
_bg="${_bg:-} $pid"
check "over SSM: token is 48 hex characters" \
    sh -c "echo '$token' | grep -qE '^[0-9a-f]{48}\$'"
check "over SSM: api/status 200 through the tunnel" \
    test "$(api_status "$(url_port "$url")" / "$token")" = 200
# Every command AWS recorded, with the input it carries decoded.
python3 - "$AGENT_STATE/sessions" >"$T/commands" <<'PY'
import base64, glob, json, re, sys
for f in glob.glob(sys.argv[1] + "/*.json"):
    s = json.load(open(f))
    if s["DocumentName"] != "AWS-StartNonInteractiveCommand":
        continue
    p = s["Parameters"]
    print(json.dumps(p))
    for b in re.findall(r"printf %s ([A-Za-z0-9+/=]+) [|]", p["command"][0]):
        print(base64.b64decode(b).decode("utf-8", "replace"))
PY
check "over SSM: the start script went through StartSession" \
    grep -q 'JUPYTER_TOKEN_FILE' "$T/commands"
check "over SSM: commands ask for separate stderr and exit code" \
    grep -q '"separateOutputStream": \["true"\]' "$T/commands"
check "over SSM: token in no StartSession parameters" \
    sh -c "! grep -rqs '$token' '$T/commands' '$AGENT_STATE' '${AGENT_STATE%/*}/aws'"
ps -eo args >"$T/ps4"
check "over SSM: token absent from the remote ps output" \
    sh -c "! grep -q '$token' '$T/ps4'"
jc_close
st=0
timeout 60 "$JC" stop --jupyter --via ssm -l "$SSH_USER" demo-stack \
    >"$T/out5" 2>"$T/err5" || st=$?
check "over SSM: stop --jupyter exits 0 (got $st)" test "$st" = 0
check "over SSM: the server is gone" wait_for 10 sh -c "! kill -0 $pid"
