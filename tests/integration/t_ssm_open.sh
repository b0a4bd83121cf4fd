#!/bin/bash
# jconnect over SSM (fake AWS + fake SSM agent + real Jupyter): the URL
# works through one smux port session (API, 50 parallel 1 MB downloads
# byte for byte, Chromium reaches the logged-in page), every Session
# Manager session is terminated on Ctrl-C, and the agent saw no protocol
# violation.
. "$(dirname "$0")/lib.sh"

rig_start sshd jupyter agent aws
head -c $((1024 * 1024)) /dev/urandom >"$RHOME/notebooks/one.bin"
want=$(sha256sum <"$RHOME/notebooks/one.bin" | cut -d' ' -f1)

"$JC" --no-browser --via ssm -l "$SSH_USER" demo-stack >"$T/out" \
    2>"$T/err" &
jc=$!
if wait_for 40 grep -q '^http' "$T/out"; then
	ok "URL printed on stdout"
else
	not_ok "URL printed on stdout"; show "$T/err"; exit 1
fi
url=$(head -n1 "$T/out")
port=$(echo "$url" | sed -E 's|^http://127\.0\.0\.1:([0-9]+)/.*|\1|')
token=$(echo "$url" | sed -E 's|.*[?&]token=([0-9a-f]+).*|\1|')
check "URL carries the server's token" test "$token" = "$JUPYTER_TOKEN"
check "only the URL on stdout" test "$(wc -l <"$T/out")" = 1
check "token not in the log at default verbosity" \
    sh -c "! grep -q '$JUPYTER_TOKEN' '$T/err'"
check "no SSM token in the log" sh -c "! grep -qi 'TokenValue' '$T/err'"

code=$(curl -s -o /dev/null -w '%{http_code}' -m 10 \
    -H "Authorization: token $token" "http://127.0.0.1:$port/api/status")
check "/api/status answers 200 through SSM" test "$code" = 200

# 50 concurrent downloads, each its own smux stream, byte-exact.
pids=""
for i in $(seq 1 50); do
	curl -s -m 120 -o "$T/dl.$i" \
	    "http://127.0.0.1:$port/files/one.bin?token=$token" &
	pids="$pids $!"
done
fail=0
for p in $pids; do wait "$p" || fail=1; done
bad=0
for i in $(seq 1 50); do
	[ "$(sha256sum <"$T/dl.$i" | cut -d' ' -f1)" = "$want" ] ||
	    bad=$((bad + 1))
done
check "50 concurrent 1 MB downloads are byte-exact ($bad bad)" \
    test "$bad" = 0 -a "$fail" = 0
n=$(agent sessions AWS-StartPortForwardingSession)
check "at most ssm.sessions (4) port sessions served them all (smux, $n)" \
    test "$n" -ge 1 -a "$n" -le 4
sleep 0.7
check "the agent ran smux v1 without keepalive" agent mode mux

idle_check "$jc"
dom "$url" "$T/dom"
check "Chromium reaches the logged-in notebook page over SSM" \
    grep -q 'id="logout"' "$T/dom"
check "Chromium did not land on the login page" \
    sh -c "! grep -q 'id=\"login_submit\"' '$T/dom'"

kill -INT "$jc"
st=0
wait "$jc" || st=$?
check "Ctrl-C exits 0 (got $st)" test "$st" = 0
check "no listener left on port $port" port_free "$port"
check "every Session Manager session was terminated" agent terminated
check "the fake agent saw no protocol violation" agent violations
