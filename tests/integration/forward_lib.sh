# forward_lib.sh - the --forward checks shared by t_forward_ssh.sh and
# t_forward_ssm.sh (sourced after lib.sh and rig_start; the caller sets
# ACCESS, the options and TARGET that reach the rig's instance, and VIA).
#
# Two real HTTP servers stand for what users forward: "TensorBoard" on
# the instance's 127.0.0.1:$TB, and "the database host" on 127.0.0.2:$DB,
# a host only the instance reaches (nothing listens on 127.0.0.1:$DB).

mkdir -p "$T/tb" "$T/db"
echo "tensorboard-$$" >"$T/tb/marker"
echo "database-$$" >"$T/db/marker"
TB=$(free_port)
DB=$(free_port)
(cd "$T/tb" && exec "$PY" -m http.server --bind 127.0.0.1 "$TB") \
    >"$T/tb.log" 2>&1 &
_bg="${_bg:-} $!"
(cd "$T/db" && exec "$PY" -m http.server --bind 127.0.0.2 "$DB") \
    >"$T/db.log" 2>&1 &
_bg="${_bg:-} $!"
wait_for 10 curl -fsS -m 2 -o /dev/null "http://127.0.0.1:$TB/marker"
wait_for 10 curl -fsS -m 2 -o /dev/null "http://127.0.0.2:$DB/marker"

# got PORT NAME : the marker through local PORT is NAME's.
got() { [ "$(curl -fsS -m 20 "http://127.0.0.1:$1/marker" 2>/dev/null)" = \
    "$2-$$" ]; }

# fwd_port LOG REMOTE : the local port the log says forwards to REMOTE.
fwd_port() {
	sed -nE "s|.*forwarding http://127\.0\.0\.1:([0-9]+)/ -> $2 .*|\1|p" \
	    "$1" | head -n1
}

# -- foreground: two forwards at once beside Jupyter ------------------------
L2=$(free_port)
# shellcheck disable=SC2086
"$JC" --no-browser $ACCESS --forward "$TB" --forward "$L2:127.0.0.2:$DB" \
    "$TARGET" >"$T/fg.out" 2>"$T/fg.err" &
jc=$!
if wait_for 60 grep -q '^http' "$T/fg.out"; then
	ok "$VIA: Jupyter's URL printed with two forwards"
else
	not_ok "$VIA: Jupyter's URL printed with two forwards"
	show "$T/fg.err"; exit 1
fi
check "$VIA: only Jupyter's URL on stdout" test "$(wc -l <"$T/fg.out")" = 1
p1=$(fwd_port "$T/fg.err" "127.0.0.1:$TB")
p2=$(fwd_port "$T/fg.err" "127.0.0.2:$DB")
# The remote's number is taken here (the rig's remote is this machine):
# the next free one is used.
check "$VIA: the TensorBoard forward is announced on a port above $TB ($p1)" \
    test -n "$p1" -a "${p1:-0}" -gt "$TB"
check "$VIA: the database forward is on the asked port $L2 ($p2)" \
    test "$p2" = "$L2"
check "$VIA: TensorBoard answers through the tunnel" got "$p1" tensorboard
check "$VIA: the host behind the instance answers through the tunnel" \
    got "$L2" database
check "$VIA: nothing answers on 127.0.0.1:$DB itself (the host matters)" \
    sh -c "! curl -fsS -m 3 -o /dev/null http://127.0.0.1:$DB/marker 2>/dev/null"
url=$(head -n1 "$T/fg.out")
jp=$(echo "$url" | sed -E 's|^http://127\.0\.0\.1:([0-9]+)/.*|\1|')
check "$VIA: Jupyter still answers beside them" sh -c \
    "curl -fsS -m 10 -o /dev/null -H 'Authorization: token $JUPYTER_TOKEN' \
    http://127.0.0.1:$jp/api/status"
# Ten at once over each forward, byte for byte.
for i in $(seq 1 10); do
	got "$p1" tensorboard &
	got "$L2" database &
done
fails=0
for job in $(jobs -p); do
	case " $_bg $jc " in *" $job "*) continue ;; esac
	wait "$job" || fails=$((fails + 1))
done
check "$VIA: 20 parallel requests over both forwards ($fails failed)" \
    test "$fails" = 0
check "$VIA: listeners only on 127.0.0.1" sh -c \
    "! ss -ltnH | grep -E ':($p1|$L2)\b' | grep -qv '127.0.0.1:'"
kill -INT "$jc"
st=0
wait "$jc" || st=$?
check "$VIA: Ctrl-C exits 0 (got $st)" test "$st" = 0
check "$VIA: both forward ports are free again" \
    sh -c "! (exec 3<>/dev/tcp/127.0.0.1/$p1) 2>/dev/null &&
    ! (exec 3<>/dev/tcp/127.0.0.1/$L2) 2>/dev/null"

# -- --json: one "forward" event per forward --------------------------------
# shellcheck disable=SC2086
"$JC" --no-browser --json $ACCESS --forward "$L2:127.0.0.2:$DB" "$TARGET" \
    >"$T/json.out" 2>"$T/json.err" &
jc=$!
if wait_for 60 grep -q '"event":"ready"' "$T/json.out"; then
	check "$VIA: --json has a forward event with ports, host and URL" \
	    "$PY" -c '
import json, sys
ev = [json.loads(l) for l in open(sys.argv[1])]
f = [e for e in ev if e["event"] == "forward"]
assert len(f) == 1, ev
f = f[0]
assert f["local_port"] == int(sys.argv[2]) and f["remote_port"] == int(sys.argv[3])
assert f["host"] == "127.0.0.2", f
assert f["url"] == "http://127.0.0.1:%s/" % sys.argv[2], f
' "$T/json.out" "$L2" "$DB"
else
	not_ok "$VIA: --json run got ready"; show "$T/json.err"
fi
kill -INT "$jc"; wait "$jc"

# -- background: ls --json lists the forwards; stop frees them --------------
# shellcheck disable=SC2086
"$JC" -f --no-browser $ACCESS --forward "$TB" --forward "$L2:127.0.0.2:$DB" \
    "$TARGET" >"$T/bg.out" 2>"$T/bg.err"
st=$?
check "$VIA: -f with two forwards exits 0 (got $st)" test "$st" = 0
[ "$st" = 0 ] || show "$T/bg.err"
b1=$(fwd_port "$T/bg.err" "127.0.0.1:$TB")
check "$VIA: -f says where each forward listens" \
    test -n "$b1" -a -n "$(fwd_port "$T/bg.err" "127.0.0.2:$DB")"
check "$VIA: background TensorBoard forward answers" got "$b1" tensorboard
check "$VIA: background database forward answers" got "$L2" database
"$JC" ls --json >"$T/ls.json"
check "$VIA: ls --json lists both forwards with their URLs" "$PY" -c '
import json, sys
t = [json.loads(l) for l in open(sys.argv[1])]
assert len(t) == 1, t
f = sorted((x["local_port"], x["host"], x["remote_port"], x["url"])
           for x in t[0]["forwards"])
want = sorted([(int(sys.argv[2]), "127.0.0.1", int(sys.argv[3]),
                "http://127.0.0.1:%s/" % sys.argv[2]),
               (int(sys.argv[4]), "127.0.0.2", int(sys.argv[5]),
                "http://127.0.0.1:%s/" % sys.argv[4])])
assert f == want, (f, want)
' "$T/ls.json" "$b1" "$TB" "$L2" "$DB"
"$JC" ls >"$T/ls.txt"
check "$VIA: ls shows the forwards" \
    grep -q "forward http://127.0.0.1:$L2/ -> 127.0.0.2:$DB" "$T/ls.txt"
# A reused tunnel without a forward asked for: say so, exit 2.
st=0
# shellcheck disable=SC2086
"$JC" url $ACCESS --forward 9 "$TARGET" >/dev/null 2>"$T/reuse.err" || st=$?
check "$VIA: url asking a forward the running tunnel lacks exits 2 (got $st)" \
    test "$st" = 2
check "$VIA: and says to stop it first" grep -q "jconnect stop" "$T/reuse.err"
"$JC" stop "$TARGET" >/dev/null 2>&1
check "$VIA: stop frees the forward ports" sh -c \
    "! (exec 3<>/dev/tcp/127.0.0.1/$b1) 2>/dev/null &&
    ! (exec 3<>/dev/tcp/127.0.0.1/$L2) 2>/dev/null"

# -- an explicit local port that is busy: exit 8 before connecting ----------
BUSY=$(free_port)
hold_port "$BUSY"
t0=$(date +%s)
st=0
# shellcheck disable=SC2086
"$JC" --no-browser $ACCESS --forward "$BUSY:$TB" "$TARGET" \
    >/dev/null 2>"$T/busy.err" || st=$?
check "$VIA: a busy LOCAL exits 8 (got $st)" test "$st" = 8
check "$VIA: with one line naming the port and what to do" \
    grep -q "local port $BUSY for --forward 127.0.0.1:$TB is busy.*pick another" \
    "$T/busy.err"
check "$VIA: and without connecting first (<5 s)" \
    test $(( $(date +%s) - t0 )) -lt 5

# -- an alias with a forward list -------------------------------------------
mkdir -p "$XDG_CONFIG_HOME/jconnect"
L3=$(free_port)
cat >"$XDG_CONFIG_HOME/jconnect/config.json" <<CFG
{ "aliases": { "fw": { $ALIAS_KEYS,
  "forward": ["$L3:127.0.0.2:$DB", $TB] } } }
CFG
"$JC" --no-browser fw >"$T/al.out" 2>"$T/al.err" &
jc=$!
if wait_for 60 grep -q '^http' "$T/al.out"; then
	check "$VIA: the alias's database forward answers on $L3" got "$L3" database
	a1=$(fwd_port "$T/al.err" "127.0.0.1:$TB")
	check "$VIA: the alias's numeric forward answers ($a1)" \
	    got "${a1:-1}" tensorboard
else
	not_ok "$VIA: alias with forwards gets ready"; show "$T/al.err"
fi
kill -INT "$jc"; wait "$jc"
rm -f "$XDG_CONFIG_HOME/jconnect/config.json"
