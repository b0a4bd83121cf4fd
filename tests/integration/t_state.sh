#!/bin/bash
# The state directory and what is in it.  Without HOME jconnect fails
# clearly instead of writing under /; a state directory that is not ours
# (another owner, a link) is refused, ours at a wider mode is set back to
# 0700.  A 260-character target and two targets that look alike as file
# names each get their own state file, which ls and stop find; a file
# under the name earlier versions used is still read.  A planted state
# file never makes stop signal another process, not even a jconnect that
# is not that tunnel; a stuck tunnel is killed after the grace period.
# No core dumps; and for a user who is not root (where a non-dumpable
# process hides most of /proc) ls and stop still work.
. "$(dirname "$0")/lib.sh"

rig_start sshd jupyter
A="$SSH_OPTS"
SD=$XDG_STATE_HOME/jconnect
is_root=0
[ "$(id -u)" = 0 ] && is_root=1

# tunnels FILE : the targets `ls --json` listed, one a line.
tunnels() { "$PY" 2>/dev/null -c 'import json, sys
for l in open(sys.argv[1]): print(json.loads(l)["target"])' "$1"; }
# json_of TARGET FIELD : FIELD of TARGET's tunnel in `ls --json`.
json_of() { "$JC" ls --json | "$PY" -c 'import json, sys
for l in sys.stdin:
    t = json.loads(l)
    if t["target"] == sys.argv[1]: print(t[sys.argv[2]])' "$1" "$2"; }
# plant FILE PID TARGET : a state file naming PID with its real start time.
plant() {
	printf '{"pid": %s, "target": "%s", "via": "ssh", "local_port": 1, "url": "x", "started": 1, "pid_start": %s}\n' \
	    "$2" "$3" "$(awk '{print $22}' "/proc/$2/stat")" >"$SD/$1"
}

# ---- no HOME ----------------------------------------------------------
had_root_state=0
[ -e /.local/state/jconnect ] && had_root_state=1
st=0; env -u HOME -u XDG_STATE_HOME "$JC" ls >/dev/null 2>"$T/e" || st=$?
check "ls without HOME exits 1 (got $st)" test "$st" = 1
check "and says to set HOME" grep -q "set HOME" "$T/e"
st=0; env -u HOME -u XDG_STATE_HOME "$JC" url $A "$SSH_TARGET" \
    >/dev/null 2>"$T/e" || st=$?
check "url without HOME exits 1 before connecting (got $st)" test "$st" = 1
check "and says to set HOME" grep -q "set HOME" "$T/e"
# (A jconnect that wrote there anyway: stop its tunnel, remove its files.)
[ "$st" = 0 ] && env -u HOME -u XDG_STATE_HOME "$JC" stop --all >/dev/null 2>&1
if [ "$had_root_state" = 0 ]; then
	check "nothing was written under /" test ! -e /.local/state/jconnect
	rm -rf /.local/state/jconnect
	rmdir /.local/state /.local 2>/dev/null
fi

# ---- a state directory that is not ours -------------------------------
mkdir -p "$SD"
if [ "$is_root" = 1 ]; then
	chown nobody "$SD"
	st=0; "$JC" ls >/dev/null 2>"$T/e" || st=$?
	check "a state directory of another user is refused (exit $st)" \
	    test "$st" = 1
	check "saying whose it is and what to do" \
	    grep -q "belongs to uid .*XDG_STATE_HOME" "$T/e"
	st=0; "$JC" url $A "$SSH_TARGET" >/dev/null 2>"$T/e" || st=$?
	check "url refuses it too (exit $st)" test "$st" = 1
	check "and started no tunnel" sh -c "! ls '$SD' | grep -q json"
	chown "$(id -u)" "$SD"
fi
chmod 0755 "$SD"
"$JC" ls >/dev/null 2>"$T/e"
check "our state directory at 0755 is set back to 0700" \
    test "$(stat -c %a "$SD")" = 700
check "with a warning" grep -q "made it 0700" "$T/e"
mv "$SD" "$T/elsewhere"
ln -s "$T/elsewhere" "$SD"
st=0; "$JC" ls >/dev/null 2>"$T/e" || st=$?
check "a state directory that is a symbolic link is refused (exit $st)" \
    test "$st" = 1
rm "$SD"
mv "$T/elsewhere" "$SD"

# ---- long and look-alike targets ---------------------------------------
# The longest alias (255 characters) with a user@ in front.
long=$(printf 'a%.0s' $(seq 255))
ltarget="$SSH_USER@$long"	# the login user typed, as users do
# [::1]:P and the alias ___1__P were the same file name before.
"$PY" -c 'import socket, sys, threading
ls = socket.socket(socket.AF_INET6)
ls.bind(("::1", 0)); ls.listen(16)
print(ls.getsockname()[1], flush=True)
def pump(a, b):
    try:
        while True:
            d = a.recv(65536)
            if not d: break
            b.sendall(d)
        b.shutdown(socket.SHUT_WR)
    except OSError:
        pass
while True:
    c, _ = ls.accept()
    s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
    for x, y in ((c, s), (s, c)):
        threading.Thread(target=pump, args=(x, y), daemon=True).start()
' "$SSHD_PORT" >"$T/v6port" 2>/dev/null &
_bg="${_bg:-} $!"
wait_for 5 test -s "$T/v6port"
p6=$(cat "$T/v6port")
v6target="[::1]:$p6"
alias6=$(printf %s "$v6target" | tr -c 'A-Za-z0-9._@-' '_')
mkdir -p "$XDG_CONFIG_HOME/jconnect"
cat >"$XDG_CONFIG_HOME/jconnect/config.json" <<EOF
{ "aliases": {
    "$long": { "target": "$SSH_TARGET" },
    "$alias6": { "target": "$SSH_TARGET" } } }
EOF
diag "look-alike targets: $v6target and $alias6"

lurl=$("$JC" url $A "$ltarget" 2>"$T/e")
if [ -n "$lurl" ]; then ok "url on a ${#ltarget}-character target works"
else not_ok "url on a ${#ltarget}-character target works"; show "$T/e" 5; fi
"$JC" ls --json >"$T/ls"
check "ls lists the ${#ltarget}-character target" grep -qx "$ltarget" \
    <(tunnels "$T/ls")
check "every state file name is short" sh -c \
    "ls '$SD' | awk 'length > 100 { bad = 1 } END { exit bad }'"
u6=$("$JC" url -i "$SSH_KEY" --known-hosts "$KNOWN_HOSTS" -l "$SSH_USER" \
    "$v6target" 2>"$T/e")
if [ -n "$u6" ]; then ok "url on $v6target works"
else not_ok "url on $v6target works"; show "$T/e" 5; fi
ua=$("$JC" url $A "$alias6" 2>"$T/e")
check "url on the alias $alias6 works" test -n "$ua"
check "and is a tunnel of its own" test "$ua" != "$u6"
"$JC" ls --json >"$T/ls"
check "ls lists all three" test "$(tunnels "$T/ls" | sort | tr '\n' ' ')" = \
    "$(printf '%s\n' "$ltarget" "$v6target" "$alias6" | sort | tr '\n' ' ')"
pa=$(json_of "$alias6" local_port)
p6l=$(json_of "$v6target" local_port)
check "stop $v6target" "$JC" stop -q "$v6target"
_bg="${_bg:-} $(pgrep -f -- "url .*\\[::1\\]:$p6\$" | tr '\n' ' ')"
check "frees its port" port_free "$p6l"
check "and leaves $alias6 running" curl -fsS -m 5 -o /dev/null \
    "http://127.0.0.1:$pa/api/status?token=${ua##*token=}"
check "whose tunnel ls still lists" grep -qx "$alias6" \
    <("$JC" ls --json >"$T/ls"; tunnels "$T/ls")
pl=$(json_of "$ltarget" local_port)
check "stop of the ${#ltarget}-character target" "$JC" stop -q "$ltarget"
# (One that escaped ls and stop would still run: end it by its own name.)
_bg="${_bg:-} $(pgrep -f -- "url .*$ltarget" | tr '\n' ' ')"
check "frees its port" port_free "$pl"
check "stop $alias6" "$JC" stop -q "$alias6"
check "ls is empty" test "$("$JC" ls --json | wc -l)" = 0

# A tunnel whose state file has the name earlier versions gave it.
"$JC" url $A "$SSH_TARGET" >/dev/null 2>&1
sf=$(ls "$SD"/*.json)
mv "$sf" "$SD/$SSH_TARGET.json"
check "a state file under its old name is listed" grep -qx "$SSH_TARGET" \
    <("$JC" ls --json >"$T/ls"; tunnels "$T/ls")
check "and stopped by target" "$JC" stop -q "$SSH_TARGET"
check "ls is empty" test "$("$JC" ls --json | wc -l)" = 0

# ---- planted state files ----------------------------------------------
# Another process of ours, called jconnect, with its true start time.
bash -c 'exec -a jconnect sleep 300' &
imp=$!
_bg="$_bg $imp"
wait_for 5 grep -q '^jconnect' "/proc/$imp/cmdline"
plant planted.json "$imp" planted
st=0; "$JC" stop planted 2>"$T/e" || st=$?
check "stop of a planted tunnel finds nothing (exit $st)" test "$st" = 3
check "and signals nothing" kill -0 "$imp"
plant planted.json "$imp" planted
"$JC" stop --all 2>"$T/e"
check "stop --all does not signal the process a planted file names" \
    kill -0 "$imp"
plant planted.json "$imp" planted
check "ls does not list it" sh -c "! '$JC' ls | grep -q planted"
check "and drops the file" test ! -e "$SD/planted.json"
kill "$imp"

# A FIFO where a state file should be: read without blocking, skipped.
mkfifo "$SD/fifo.json"
st=0; timeout 10 "$JC" ls >/dev/null 2>&1 || st=$?
check "a FIFO in the state directory does not hang ls (exit $st)" \
    test "$st" = 0
rm -f "$SD/fifo.json"

# A real jconnect that is not that tunnel (a foreground one).
"$JC" $A --no-browser "$SSH_TARGET" >"$T/fg.out" 2>"$T/fg.err" &
fg=$!
_bg="$_bg $fg"
wait_for 20 grep -q token "$T/fg.out"
plant fg-planted.json "$fg" fg-planted
st=0; "$JC" stop fg-planted 2>"$T/e" || st=$?
check "stop refuses a jconnect that does not hold the state file (exit $st)" \
    test "$st" = 1
check "saying why" grep -q "does not hold its state file" "$T/e"
check "and it keeps running" kill -0 "$fg"
rm -f "$SD/fg-planted.json"
kill -INT "$fg"
wait "$fg" 2>/dev/null

# ---- a stuck tunnel, and core dumps -----------------------------------
ulimit -S -c unlimited 2>/dev/null
"$JC" url $A "$SSH_TARGET" >/dev/null 2>&1
pid=$(json_of "$SSH_TARGET" pid)
port=$(json_of "$SSH_TARGET" local_port)
check "the tunnel runs with a core size limit of 0 (we had unlimited)" \
    grep -Eq '^Max core file size +0 ' "/proc/$pid/limits"
kill -STOP "$pid"
t0=$(date +%s)
check "stop of a stopped (stuck) tunnel succeeds" "$JC" stop "$SSH_TARGET" \
    2>"$T/e"
check "after the grace period, with SIGKILL ($(( $(date +%s) - t0 )) s)" \
    grep -q "killed it" "$T/e"
check "the stuck supervisor is gone" wait_for 5 sh -c "! kill -0 $pid"
check "its port is free" port_free "$port"

# ---- as a user other than root ----------------------------------------
if [ "$is_root" = 1 ] && command -v setpriv >/dev/null; then
	chmod 711 "$T"
	NH=$T/nobody
	mkdir -p "$NH/.ssh"
	cp "$SSH_KEY" "$NH/.ssh/key"
	cp "$KNOWN_HOSTS" "$NH/.ssh/known_hosts"
	chmod 700 "$NH" "$NH/.ssh"
	chmod 600 "$NH/.ssh/key"
	chown -R 65534:65534 "$NH"
	asn() { setpriv --reuid=65534 --regid=65534 --clear-groups env \
	    HOME="$NH" XDG_STATE_HOME="$NH/.local/state" \
	    XDG_CONFIG_HOME="$NH/.config" "$@"; }
	nurl=$(asn "$JC" url -i "$NH/.ssh/key" -p "$SSHD_PORT" \
	    --known-hosts "$NH/.ssh/known_hosts" "$SSH_TARGET" 2>"$T/e")
	if [ -n "$nurl" ]; then ok "as nobody: url works"
	else not_ok "as nobody: url works"; show "$T/e" 5; fi
	asn "$JC" ls --json >"$T/nls"
	npid=$("$PY" -c 'import json, sys
print(json.loads(open(sys.argv[1]).readline())["pid"])' "$T/nls" 2>/dev/null)
	nport=$("$PY" -c 'import json, sys
print(json.loads(open(sys.argv[1]).readline())["local_port"])' "$T/nls" \
	    2>/dev/null)
	_bg="$_bg $npid"
	check "as nobody: ls lists it" test -n "$npid"
	check "its environment and memory are closed to nobody's other processes (not dumpable)" \
	    asn sh -c "! cat /proc/$npid/environ >/dev/null 2>&1"
	check "as nobody: stop" asn "$JC" stop -q "$SSH_TARGET"
	check "the tunnel is gone" wait_for 5 sh -c "! kill -0 $npid"
	check "its port is free" port_free "$nport"
fi
