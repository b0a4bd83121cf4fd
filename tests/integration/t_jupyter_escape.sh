#!/bin/bash
# Remote text reaches the terminal escaped: a runtime file on the remote
# whose version carries ESC sequences (a title change, a colour, a C1 CSI)
# and a Jupyter log whose lines do, through a real sshd and a real
# Jupyter.  jconnect prints them as \xNN, never raw; the URL still works.
. "$(dirname "$0")/lib.sh"

. "$(dirname "$0")/jupyter_lib.sh"

rig_start sshd jupyter

# A live python process stands in for a second server: its runtime file
# (newer, so picked first) names the real server's port and token.
/usr/bin/python3 -c 'import time; time.sleep(600)' &
fake=$!
_bg="${_bg:-} $fake"
RT=$JUPYTER_RUNTIME_DIR
/usr/bin/python3 - "$RT/nbserver-$JUPYTER_PID.json" "$RT/nbserver-$fake.json" \
    "$fake" <<'PY'
import json, sys
with open(sys.argv[1]) as f:
    info = json.load(f)
info["pid"] = int(sys.argv[3])
info["version"] = "6\x1b]0;owned\x07\x1b[31m\u009b2J"
with open(sys.argv[2], "w") as f:
    json.dump(info, f)
PY
chmod 600 "$RT/nbserver-$fake.json"

jc_open_ok "URL printed with the hostile runtime file" "$T/out1" "$T/err1" -v
url=$(head -n1 "$T/out1")
check "api/status 200 through the tunnel" \
    test "$(api_status "$(url_port "$url")" / "$JUPYTER_TOKEN")" = 200
jc_close
check "the hostile file was the one used" grep -q "nbserver-$fake.json" "$T/err1"
check "no ESC byte on stderr" sh -c "! grep -q \$(printf '\\033') '$T/err1'"
check "no BEL byte on stderr" sh -c "! grep -q \$(printf '\\007') '$T/err1'"
check "no C1 CSI on stderr" sh -c "! grep -q \$(printf '\\302\\233') '$T/err1'"
check "the version is shown escaped" \
    grep -qF 'Jupyter Notebook 6\x1b]0;owned\x07\x1b[31m\xc2\x9b2J' "$T/err1"
check "the URL has the real token" \
    test "$(url_token "$url")" = "$JUPYTER_TOKEN"
kill "$fake" 2>/dev/null
wait "$fake" 2>/dev/null
rm -f "$RT/nbserver-$fake.json"

# A log that announces nothing, with ESC in its lines and name: -v names
# the log, escaped.
printf 'ok\n[I 10:00 NotebookApp] Shutdown confirmed \033[2J\n' \
    >"$T/nolog"
evil="$T/log"$'\033'"[5m"
cp "$T/nolog" "$evil"
timeout 60 "$JC" --no-browser $SSH_OPTS -v --jupyter-port 1 \
    --jupyter-log "$evil" "$SSH_TARGET" >"$T/out2" 2>"$T/err2"
check "the log name is shown escaped" grep -qF 'log\x1b[5m' "$T/err2"
check "no ESC byte on stderr (log name)" \
    sh -c "! grep -q \$(printf '\\033') '$T/err2'"
