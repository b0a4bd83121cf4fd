#!/bin/bash
# The compressed path over SSM (fake AWS + fake agent paced like AWS's,
# real sshd and Jupyter): jconnect's SSH client logs in to sshd inside an
# AWS-StartSSHSession session and new connections go through it, zlib on.
# With the user's -i key: a compressible 2 MB file arrives byte for byte
# while the agent sends far fewer bytes than that, and Chromium reaches
# the notebook; the browser opens once the path is up.  With no key of
# the user's: a throwaway key line (with expiry-time, restrict,
# permitopen, from) is in authorized_keys while the tunnel runs and gone
# after Ctrl-C or `jconnect stop`, every other line kept byte for byte.
. "$(dirname "$0")/lib.sh"

rig_start sshd jupyter agent aws
faults '{"pace_ms": 1}'
INST=i-0123456789abcdef0
AK=$RHOME/.ssh/authorized_keys
# Lines the key merge must keep as they are: a comment, a blank line, a
# key with options.
ssh-keygen -q -t ed25519 -N '' -C 'other key' -f "$T/other"
printf '# keep me\n\nfrom="10.1.2.3",no-pty %s\n' "$(cat "$T/other.pub")" \
    >>"$AK"
cp "$AK" "$T/ak.orig"
# A compressible file: real Jupyter JavaScript.
JS=/usr/lib/python3/dist-packages/notebook/static
cat "$JS"/tree/js/main.min.js "$JS"/edit/js/main.min.js |
    head -c 2000000 >"$RHOME/notebooks/c.js"


# start NAME ARGS... : a foreground tunnel at -v, URL in $url, port, token.
start() {
	local n=$1; shift
	"$JC" -v --no-browser --via ssm -l "$SSH_USER" -p "$SSHD_PORT" \
	    --known-hosts "$T/kh" "$@" demo-stack >"$T/$n.out" \
	    2>"$T/$n.err" &
	jc=$!
	if ! wait_for 40 grep -q '^http' "$T/$n.out"; then
		not_ok "$n: URL printed"; show "$T/$n.err"; exit 1
	fi
	t_url=$(date +%s%N)
	url=$(head -n1 "$T/$n.out")
	port=$(echo "$url" | sed -E 's|^http://127\.0\.0\.1:([0-9]+)/.*|\1|')
	token=$(echo "$url" | sed -E 's|.*[?&]token=([0-9a-f]+).*|\1|')
}

stop_fg() {
	local st=0
	kill -INT "$jc"
	wait "$jc" || st=$?
	check "$1: Ctrl-C exits 0 (got $st)" test "$st" = 0
}

# ---- the user's own key ---------------------------------------------------
start userkey -i "$SSH_KEY"
if wait_for 30 grep -q 'compressed path up' "$T/userkey.err"; then
	ok "user key: the compressed path comes up after the URL"
	diag "user key: path up $((($(date +%s%N) - t_url) / 1000000)) ms" \
	    "after the URL"
else
	not_ok "user key: the compressed path comes up after the URL"
	show "$T/userkey.err" 30
fi
check "user key: -v says which key logged in" \
    grep -q "logged in with $SSH_KEY" "$T/userkey.err"
check "user key: the host key is known under the instance id" \
    grep -q "^\[$INST\]:$SSHD_PORT " "$T/kh"
check "user key: no throwaway key was installed" cmp -s "$AK" "$T/ak.orig"
ssh0=$(doc_out AWS-StartSSHSession)
port0=$(doc_out AWS-StartPortForwardingSession)
curl -s -m 60 -o "$T/c.js" "http://127.0.0.1:$port/files/c.js?token=$token"
check "user key: 2 MB of JavaScript arrive byte for byte" \
    cmp -s "$T/c.js" "$RHOME/notebooks/c.js"
ssh1=$(doc_out AWS-StartSSHSession)
port1=$(doc_out AWS-StartPortForwardingSession)
sent=$((ssh1 - ssh0))
diag "agent sent $sent bytes in AWS-StartSSHSession for 2000000 of payload;" \
    "$((port1 - port0)) in the plain port session"
check "user key: the bytes went through the SSH session, compressed" \
    test "$sent" -gt 50000 -a "$sent" -lt 1000000
check "user key: not through the plain port session" \
    test $((port1 - port0)) -lt 100000
dom "$url" "$T/dom"
check "user key: Chromium reaches the logged-in notebook page" \
    grep -q 'id="logout"' "$T/dom"
stop_fg "user key"

# ---- the browser opens once the path is up -----------------------------
cat >"$T/browser.sh" <<EOF
#!/bin/sh
if grep -q 'compressed path up' '$T/browser.err'; then w=after; else w=before; fi
echo "\$w \$*" >"$T/browser.when"
EOF
chmod 755 "$T/browser.sh"
BROWSER=$T/browser.sh "$JC" -v --via ssm -l "$SSH_USER" -p "$SSHD_PORT" \
    -i "$SSH_KEY" --known-hosts "$T/kh" demo-stack >"$T/browser.out" \
    2>"$T/browser.err" &
jc=$!
check "browser: started" wait_for 40 test -s "$T/browser.when"
check "browser: opened once the compressed path was up, on the URL's page" \
    grep -q "^after file:///.*\.html$" "$T/browser.when"
stop_fg "browser"

# ---- a throwaway key, foreground, Ctrl-C ---------------------------------
start throwaway
if wait_for 30 grep -q 'compressed path up' "$T/throwaway.err"; then
	ok "throwaway: the compressed path comes up without a key of ours"
	diag "throwaway: path up $((($(date +%s%N) - t_url) / 1000000)) ms" \
	    "after the URL"
else
	not_ok "throwaway: the compressed path comes up without a key of ours"
	show "$T/throwaway.err" 30
fi
check "throwaway: -v says a throwaway key was installed" \
    grep -q "installed a throwaway key" "$T/throwaway.err"
check "throwaway: and that it logged in" \
    grep -q "with a throwaway key" "$T/throwaway.err"
line=$(grep 'jconnect-throwaway' "$AK")
check "throwaway: one line in authorized_keys" \
    test "$(grep -c 'jconnect-throwaway' "$AK")" = 1
check "throwaway: it expires (expiry-time, UTC)" \
    sh -c "echo '$line' | grep -Eq 'expiry-time=\"[0-9]{14}Z\"'"
want='^restrict,port-forwarding,permitopen="[^"]*:[0-9]*",'
want="$want"'from="127.0.0.1,::1",expiry-time='
check "throwaway: it is restricted to forwarding to Jupyter" \
    sh -c "echo '$line' | grep -q '$want'"
check "throwaway: every other line kept byte for byte" \
    cmp -n "$(wc -c <"$T/ak.orig")" "$AK" "$T/ak.orig"
check "throwaway: nothing but that line added" \
    test "$(wc -l <"$AK")" = $(($(wc -l <"$T/ak.orig") + 1))
check "throwaway: the private key never touched the disk" \
    sh -c "! grep -rlq 'BEGIN OPENSSH PRIVATE' '$HOME' 2>/dev/null"
ssh0=$(doc_out AWS-StartSSHSession)
curl -s -m 60 -o "$T/c2.js" "http://127.0.0.1:$port/files/c.js?token=$token"
check "throwaway: the download is byte for byte" \
    cmp -s "$T/c2.js" "$RHOME/notebooks/c.js"
ssh1=$(doc_out AWS-StartSSHSession)
check "throwaway: it went through SSH, compressed ($((ssh1 - ssh0)) bytes)" \
    test $((ssh1 - ssh0)) -gt 50000 -a $((ssh1 - ssh0)) -lt 1000000
stop_fg "throwaway"
check "throwaway: the key is gone after Ctrl-C, the file as it was" \
    cmp -s "$AK" "$T/ak.orig"
check "throwaway: -v says it was removed" \
    grep -q "removed the throwaway key" "$T/throwaway.err"

# ---- a throwaway key, background tunnel, jconnect stop ------------------
st=0
"$JC" url --via ssm -l "$SSH_USER" -p "$SSHD_PORT" --known-hosts "$T/kh" \
    demo-stack >"$T/bg.out" 2>"$T/bg.err" || st=$?
check "background: url exits 0 (got $st)" test "$st" = 0
check "background: the throwaway key arrives after the URL" \
    wait_for 30 grep -q jconnect-throwaway "$AK"
check "background: every other line kept byte for byte" \
    cmp -n "$(wc -c <"$T/ak.orig")" "$AK" "$T/ak.orig"
st=0
"$JC" stop demo-stack 2>"$T/stop.err" || st=$?
check "background: stop exits 0 (got $st)" test "$st" = 0
check "background: the key is gone after stop, the file as it was" \
    cmp -s "$AK" "$T/ak.orig"

check "every Session Manager session was terminated" agent terminated
check "the fake agent saw no protocol violation" agent violations
