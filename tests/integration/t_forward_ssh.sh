#!/bin/bash
# --forward over SSH: extra ports beside Jupyter as direct-tcpip channels
# of the same session, to the instance itself and to a host only it
# reaches; foreground, --json, background with ls --json, a busy LOCAL
# (exit 8), an alias's forward list, bad specs (exit 2).
. "$(dirname "$0")/lib.sh"

rig_start sshd jupyter
VIA=ssh
ACCESS="$SSH_OPTS"
TARGET=$SSH_TARGET
ALIAS_KEYS="\"target\": \"$SSH_TARGET\", \"port\": $SSHD_PORT,
  \"identity\": \"$SSH_KEY\", \"known_hosts\": \"$KNOWN_HOSTS\""
. "$(dirname "$0")/forward_lib.sh"

# -- bad specs: exit 2 with what is allowed, before anything connects -------
for spec in abc 0 70000 16006: ':80' 'x:y' '[::1]' '1:2:3'; do
	st=0
	"$JC" --no-browser $ACCESS --forward "$spec" "$TARGET" \
	    >/dev/null 2>"$T/bad.err" || st=$?
	check "--forward '$spec' exits 2 (got $st)" test "$st" = 2
	check "--forward '$spec': one line saying what a forward is" sh -c \
	    "test \$(wc -l <'$T/bad.err') = 1 &&
	    grep -q '^jconnect: --forward: .*\[LOCAL:\]REMOTE' '$T/bad.err'"
done
st=0
"$JC" url --forward 1 --forward 2 --forward 3 --forward 4 --forward 5 \
    --forward 6 --forward 7 --forward 8 --forward 9 --forward 10 \
    --forward 11 --forward 12 --forward 13 --forward 14 --forward 15 \
    --forward 16 --forward 17 "$TARGET" >/dev/null 2>"$T/many.err" || st=$?
check "17 forwards exit 2 (got $st)" test "$st" = 2
st=0
"$JC" resolve --forward 6006 "$TARGET" >/dev/null 2>"$T/na.err" || st=$?
check "--forward is not for resolve (exit 2)" test "$st" = 2

# A bad "forward" in the config file: exit 2 naming file, alias and key.
cfg=$XDG_CONFIG_HOME/jconnect/config.json
for bad in '"6006"' '["6006", "db:x"]' '[true]' '[0]'; do
	printf '{ "aliases": { "fw": { "target": "%s", "forward": %s } } }\n' \
	    "$SSH_TARGET" "$bad" >"$cfg"
	st=0
	"$JC" --no-browser fw >/dev/null 2>"$T/cfg.err" || st=$?
	check "config forward $bad exits 2 (got $st)" test "$st" = 2
	check "config forward $bad: the message names file, alias and key" \
	    grep -q "$cfg: alias \"fw\": forward: " "$T/cfg.err"
done
rm -f "$cfg"

# -- a dropped session: the forwards come back on the same local ports ----
L5=$(free_port)
"$JC" -f --no-browser $ACCESS --forward "$L5:127.0.0.2:$DB" "$TARGET" \
    >/dev/null 2>"$T/rc.err"
check "background tunnel with a forward for the drop test" got "$L5" database
rig_stop sshd >/dev/null 2>&1
# The session processes of this rig's sshd only (by its port).
for p in $(ss -Htnp state established "( sport = :$SSHD_PORT )" |
    sed -nE 's/.*pid=([0-9]+).*/\1/p' | sort -u); do
	kill "$p" 2>/dev/null
done
check "the forward fails while sshd is away" \
    sh -c "! curl -fsS -m 3 -o /dev/null http://127.0.0.1:$L5/marker 2>/dev/null"
"$PY" "$ROOT/tests/rig/rig.py" start --dir "$T/rig" --sshd-port "$SSHD_PORT" \
    sshd >"$T/rig2.out" 2>&1
check "after reconnecting the forward answers on the same port $L5" \
    wait_for 20 got "$L5" database
sf=$(ls "$XDG_STATE_HOME"/jconnect/*.json)
check "the supervisor logged the reconnect" wait_for 10 \
    grep -q reconnected "${sf%.json}.log"
"$JC" stop "$TARGET" >/dev/null 2>&1
