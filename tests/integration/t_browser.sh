#!/bin/bash
# The browser never sees the token on its command line or in its
# environment (both readable by other local users through ps and /proc):
# it is opened on a 0600 page in the state directory that redirects to the
# URL.  A fake browser records what it was given, then hands the page to
# headless Chromium, which must land on the logged-in notebook.  The page
# goes away with the tunnel (foreground Ctrl-C, background stop).
. "$(dirname "$0")/lib.sh"

rig_start sshd jupyter
A="$SSH_OPTS"
SD=$XDG_STATE_HOME/jconnect
# The rig exports the token for tests that need it: not for jconnect here.
unset JUPYTER_TOKEN

# The fake browser: argv, environment, descriptors, every process's
# command line at that moment, the page and its mode, then what Chromium
# makes of it.
cat >"$T/browser" <<EOF
#!/bin/bash
d=\$1; shift
mkdir -p "\$d"
printf '%s\n' "\$@" >"\$d/argv"
tr '\0' '\n' </proc/\$\$/environ >"\$d/environ"
ls -l /proc/\$\$/fd >"\$d/fds"
for f in /proc/[0-9]*/cmdline; do
	tr '\0' ' ' <"\$f" 2>/dev/null; echo
done >"\$d/cmdlines"
page=\$("$PY" -c 'import sys, urllib.parse as u
p = u.urlparse(sys.argv[1]); print(u.unquote(p.path) if p.scheme == "file" else "")' "\${@: -1}")
echo "\$page" >"\$d/path"
stat -c %a "\$page" >"\$d/mode" 2>/dev/null
cp "\$page" "\$d/page.html" 2>/dev/null
prof=\$(mktemp -d "$T/chrome.XXXXXX")
timeout 60 chromium $(echo $CHROME_FLAGS) --user-data-dir="\$prof" \
    --dump-dom "\${@: -1}" >"\$d/dom" 2>/dev/null
echo done >"\$d/done"
EOF
chmod 755 "$T/browser"

# browsed DIR : what the fake browser recorded in DIR is clean.
browsed() {
	local d=$1 url=$2 token=${2##*token=}
	if wait_for 90 test -e "$d/done"; then
		ok "the browser was started"
	else
		not_ok "the browser was started"
		return
	fi
	check "its argv is one file:// URL" sh -c \
	    "test \$(wc -l <'$d/argv') = 1 && grep -q '^file:///' '$d/argv'"
	check "the token is not in its argv" sh -c "! grep -q '$token' '$d/argv'"
	check "nor in its environment" sh -c "! grep -q '$token' '$d/environ'"
	check "it got none of jconnect's sockets" sh -c \
	    "grep -q ' 0 -> ' '$d/fds' && ! grep -q 'socket:' '$d/fds'"
	check "nor in any process's command line" \
	    sh -c "! grep -q '$token' '$d/cmdlines'"
	check "the page is in the state directory" \
	    test "$(dirname "$(cat "$d/path")")" = "$SD"
	check "the page is 0600" test "$(cat "$d/mode")" = 600
	check "the page leads to the URL" grep -qF "url=$url\"" "$d/page.html"
	check "Chromium opening the page lands on the logged-in notebook" \
	    grep -q 'id="logout"' "$d/dom"
}

# ---- foreground --------------------------------------------------------
BROWSER="$T/browser $T/fg" "$JC" $A "$SSH_TARGET" >"$T/fg.out" \
    2>"$T/fg.err" &
fg=$!
_bg="${_bg:-} $fg"
wait_for 30 grep -q token "$T/fg.out"
url=$(head -1 "$T/fg.out")
browsed "$T/fg" "$url"
page=$(cat "$T/fg/path")
check "the page is there while the tunnel runs" test -f "$page"
kill -INT "$fg"
wait "$fg"
check "Ctrl-C removes the page" test ! -e "$page"

# ---- background (open -f) ----------------------------------------------
url=$(BROWSER="$T/browser $T/bg" "$JC" open -f $A "$SSH_TARGET" 2>"$T/bg.err")
check "open -f prints the URL" grep -q token <<<"$url"
browsed "$T/bg" "$url"
page=$(cat "$T/bg/path")
check "the page is there while the tunnel runs" test -f "$page"
"$JC" stop -q "$SSH_TARGET"
check "stop removes the page" test ! -e "$page"

# ---- no state directory: no browser rather than the token in argv -----
rm -rf "$T/nohome"
env -u HOME -u XDG_STATE_HOME BROWSER="$T/browser $T/nohome" \
    "$JC" $A "$SSH_TARGET" >"$T/nh.out" 2>"$T/nh.err" &
nh=$!
_bg="$_bg $nh"
wait_for 30 grep -q token "$T/nh.out"
check "without HOME the URL is still printed" grep -q token "$T/nh.out"
check "and the browser not started, saying why" \
    grep -q "not opening the browser.*HOME" "$T/nh.err"
kill -INT "$nh"
wait "$nh"
check "the browser was not started" test ! -e "$T/nohome"
