#!/bin/bash
# jconnect over SSH to a real sshd and a real Jupyter: the printed URL
# works through the tunnel (API, 20 parallel 5 MB downloads, Chromium
# reaches the logged-in page), and Ctrl-C leaves nothing behind.
. "$(dirname "$0")/lib.sh"

rig_start sshd jupyter
head -c $((5 * 1024 * 1024)) /dev/urandom >"$RHOME/notebooks/big.bin"
want=$(sha256sum <"$RHOME/notebooks/big.bin" | cut -d' ' -f1)

"$JC" --no-browser $SSH_OPTS "$SSH_TARGET" >"$T/out" 2>"$T/err" &
jc=$!
if wait_for 30 grep -q '^http' "$T/out"; then
	ok "URL printed on stdout"
else
	not_ok "URL printed on stdout"; show "$T/err"; exit 1
fi
url=$(head -n1 "$T/out")
port=$(echo "$url" | sed -E 's|^http://127\.0\.0\.1:([0-9]+)/.*|\1|')
token=$(echo "$url" | sed -E 's|.*[?&]token=([0-9a-f]+).*|\1|')
check "URL is on 127.0.0.1 with the server's token" \
    test "$token" = "$JUPYTER_TOKEN"
check "only the URL on stdout" test "$(wc -l <"$T/out")" = 1
check "token not in the log at default verbosity" \
    sh -c "! grep -q '$JUPYTER_TOKEN' '$T/err'"

code=$(curl -s -o "$T/status" -w '%{http_code}' -m 10 \
    -H "Authorization: token $token" "http://127.0.0.1:$port/api/status")
check "/api/status answers 200 with the token through the tunnel" \
    test "$code" = 200
code=$(curl -s -o /dev/null -w '%{http_code}' -m 10 \
    "http://127.0.0.1:$port/api/status")
check "/api/status refuses without the token (403)" test "$code" = 403

# 20 concurrent downloads of the 5 MB file, each checked byte for byte.
for i in $(seq 1 20); do
	curl -s -m 60 -o "$T/dl.$i" \
	    "http://127.0.0.1:$port/files/big.bin?token=$token" &
done
wait_dl=0
for job in $(jobs -p); do [ "$job" = "$jc" ] || wait "$job" || wait_dl=1; done
bad=0
for i in $(seq 1 20); do
	got=$(sha256sum <"$T/dl.$i" | cut -d' ' -f1)
	[ "$got" = "$want" ] || bad=$((bad + 1))
done
check "20 concurrent 5 MB downloads are byte-exact ($bad bad)" \
    test "$bad" = 0 -a "$wait_dl" = 0

# Headless Chromium opens the printed URL and is logged in.
idle_check "$jc"
dom "$url" "$T/dom"
check "Chromium reaches the logged-in notebook page" \
    grep -q 'id="logout"' "$T/dom"
check "Chromium did not land on the login page" \
    sh -c "! grep -q 'id=\"login_submit\"' '$T/dom'"

# Ctrl-C: exits 0, no listener, no child left.
kill -INT "$jc"
st=0
wait "$jc" || st=$?
check "Ctrl-C exits 0 (got $st)" test "$st" = 0
check "no listener left on port $port" port_free "$port"
check "no child process left" sh -c "! pgrep -P $jc >/dev/null"
check "sshd saw the session end" wait_for 5 grep -q 'Disconnected from\|Connection closed\|Close session' "$SSHD_LOG"
