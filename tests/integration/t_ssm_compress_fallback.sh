#!/bin/bash
# When the compressed path over SSM cannot be had, the plain port session
# serves: no sshd where the agent dials (port 22 here), a throwaway key
# that cannot be installed (read-only authorized_keys), a key whose line
# forbids forwarding, or -o ssm.compress=no.  Why is said once at -v,
# as a warning only with -o ssm.compress=yes, and nothing at default
# verbosity.  A path that dies later (its sshd process killed) hands new
# connections back to the plain session and comes up again.
. "$(dirname "$0")/lib.sh"

rig_start sshd jupyter agent aws
faults '{"pace_ms": 1}'
AK=$RHOME/.ssh/authorized_keys
cp "$AK" "$T/ak.orig"
JS=/usr/lib/python3/dist-packages/notebook/static
head -c 300000 "$JS/tree/js/main.min.js" >"$RHOME/notebooks/c.js"


# run NAME ARGS... : a tunnel; waits for its URL, then fetches c.js.
run() {
	local n=$1; shift
	"$JC" --no-browser --via ssm -l "$SSH_USER" \
	    --known-hosts "${KH:-$T/kh}" "$@" demo-stack >"$T/$n.out" \
	    2>"$T/$n.err" &
	jc=$!
	if ! wait_for 40 grep -q '^http' "$T/$n.out"; then
		not_ok "$n: URL printed"; show "$T/$n.err"; exit 1
	fi
	url=$(head -n1 "$T/$n.out")
	port=$(echo "$url" | sed -E 's|^http://127\.0\.0\.1:([0-9]+)/.*|\1|')
	token=$(echo "$url" | sed -E 's|.*[?&]token=([0-9a-f]+).*|\1|')
}
fetch() {
	rm -f "$T/got.js"
	curl -s -m 60 -o "$T/got.js" \
	    "http://127.0.0.1:$port/files/c.js?token=$token" &&
	    cmp -s "$T/got.js" "$RHOME/notebooks/c.js"
}
end() {
	local st=0
	kill -INT "$jc"
	wait "$jc" || st=$?
	check "$1: Ctrl-C exits 0 (got $st)" test "$st" = 0
}

# ---- no sshd where the agent dials -------------------------------------
if port_busy 22; then
	diag "something listens on 127.0.0.1:22 here; the no-sshd checks" \
	    "dial it anyway"
fi
run nosshd -v
check "no sshd: -v says why the plain path stays" wait_for 30 \
    grep -q 'unavailable (the SSM agent reached no sshd on port 22)' \
    "$T/nosshd.err"
check "no sshd: once" \
    test "$(grep -c 'compressed path unavailable' "$T/nosshd.err")" = 1
check "no sshd: the URL still works" fetch
check "no sshd: the path did not come up" \
    sh -c "! grep -q 'compressed path up' '$T/nosshd.err'"
end "no sshd"

ssh0=$(doc_out AWS-StartSSHSession)
run quiet
sleep 4
check "no sshd, default verbosity: the URL still works" fetch
check "no sshd, default verbosity: nothing said about it" \
    sh -c "! grep -Eqi 'compress|could not reach|ssh' '$T/quiet.err'"
end "no sshd, default verbosity"

run explicit -o ssm.compress=yes
check "no sshd, ssm.compress=yes: a warning says why" wait_for 30 \
    grep -q 'compressed path unavailable' "$T/explicit.err"
check "no sshd, ssm.compress=yes: the URL still works" fetch
end "no sshd, ssm.compress=yes"
# Only the session's own messages (handshake, closed): no payload.
check "no sshd: no payload through an SSH session" \
    test $(($(doc_out AWS-StartSSHSession) - ssh0)) -lt 2000

# ---- a changed host key ------------------------------------------------------
ssh-keygen -q -t ed25519 -N '' -f "$T/fakehost"
echo "[i-0123456789abcdef0]:$SSHD_PORT $(cut -d' ' -f1,2 "$T/fakehost.pub")" \
    >"$T/kh.bad"
ssh0=$(doc_out AWS-StartSSHSession)
KH=$T/kh.bad run hostkey -p "$SSHD_PORT" -i "$SSH_KEY"
check "changed host key: a warning, even at default verbosity" wait_for 30 \
    grep -q 'host key of i-0123456789abcdef0.s sshd is refused' \
    "$T/hostkey.err"
check "changed host key: the URL still works" fetch
check "changed host key: no payload through the SSH session" \
    test $(($(doc_out AWS-StartSSHSession) - ssh0)) -lt 5000
check "changed host key: known_hosts left alone" \
    test "$(wc -l <"$T/kh.bad")" = 1
end "changed host key"

# ---- a throwaway key that cannot be installed ---------------------------
chmod 444 "$AK"
run refused -p "$SSHD_PORT"
sleep 4
check "read-only authorized_keys: the URL still works" fetch
check "read-only authorized_keys: nothing said at default verbosity" \
    sh -c "! grep -Eqi 'read-only|compress|key' '$T/refused.err'"
check "read-only authorized_keys: the file is unchanged" \
    cmp -s "$AK" "$T/ak.orig"
end "read-only authorized_keys"
chmod 644 "$AK"

# ---- a key that logs in but may not forward ------------------------------
ssh-keygen -q -t ed25519 -N '' -C 'no forwarding' -f "$T/nofwd"
printf 'restrict %s\n' "$(cat "$T/nofwd.pub")" >>"$AK"
run nofwd -v -p "$SSHD_PORT" -i "$T/nofwd"
check "no forwarding: -v says sshd does not forward" wait_for 30 \
    grep -q 'unavailable (sshd on port [0-9]* does not forward' \
    "$T/nofwd.err"
check "no forwarding: the URL still works" fetch
check "no forwarding: the path did not come up" \
    sh -c "! grep -q 'compressed path up' '$T/nofwd.err'"
end "no forwarding"
cp "$T/ak.orig" "$AK"

# ---- -o ssm.compress=no ---------------------------------------------------
ssh0=$(doc_out AWS-StartSSHSession)
port0=$(doc_out AWS-StartPortForwardingSession)
run off -v -p "$SSHD_PORT" -i "$SSH_KEY" -o ssm.compress=no
sleep 2
check "ssm.compress=no: the URL works" fetch
check "ssm.compress=no: no compressed path tried" \
    sh -c "! grep -q 'compressed path' '$T/off.err'"
check "ssm.compress=no: no byte through an SSH session" \
    test "$(doc_out AWS-StartSSHSession)" = "$ssh0"
check "ssm.compress=no: the plain port session carried it" \
    test $(($(doc_out AWS-StartPortForwardingSession) - port0)) -ge 300000
end "ssm.compress=no"

# ---- the path dies later ----------------------------------------------
run relink -v -p "$SSHD_PORT" -i "$SSH_KEY"
check "relink: the compressed path comes up" wait_for 30 \
    grep -q 'compressed path up' "$T/relink.err"
sshd_pid=$("$PY" -c 'import json,sys
print([p["pid"] for p in json.load(open(sys.argv[1]))
       if p["name"] == "sshd"][0])' "$RIG_DIR/pids")
for p in $(pgrep -P "$sshd_pid"); do kill "$p"; done
check "relink: -v says the path ended" wait_for 20 \
    grep -q 'compressed path ended' "$T/relink.err"
check "relink: new connections work meanwhile" fetch
check "relink: the path comes up again" wait_for 30 \
    sh -c "test \$(grep -c 'compressed path up' '$T/relink.err') = 2"
ssh0=$(doc_out AWS-StartSSHSession)
check "relink: the URL works over it" fetch
check "relink: through the SSH session" \
    test "$(doc_out AWS-StartSSHSession)" -gt "$ssh0"
end "relink"

check "every Session Manager session was terminated" agent terminated
check "the fake agent saw no protocol violation" agent violations
