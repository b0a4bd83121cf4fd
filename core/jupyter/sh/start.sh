# shellcheck shell=sh
# Start a server, after common.sh; the prelude sets N, PORT, RETRIES and
# WAIT (in naps of 0.2 s).  Comment lines are left out of the embedded
# string.
M jupyter "$J"
[ -n "$J" ] || { M nojupyter; exit 0; }
APP=
JB=${J%/*}
for a in lab notebook server; do
	if command -v "jupyter-$a" >/dev/null 2>&1 || [ -x "$JB/jupyter-$a" ]; then
		APP=$a
		break
	fi
done
[ -n "$APP" ] || { M noapp; exit 0; }
# shellcheck disable=SC2015 # either failing is the error, as meant
mkdir -p "$JD" && chmod 700 "$JD" || { M err "cannot create $JD"; exit 0; }
RT=${JUPYTER_RUNTIME_DIR:-}
[ -n "$RT" ] || RT=$($TO "$J" --runtime-dir </dev/null 2>/dev/null)
[ -n "$RT" ] || RT=$HOME/.local/share/jupyter/runtime
LOG=$JD/jupyter.log
[ -f "$LOG" ] && mv -f "$LOG" "$LOG.1"
TF=$JD/jupyter.token
rm -f "$TF"
TOK=$(od -An -N24 -tx1 /dev/urandom 2>/dev/null | tr -d ' \n')
[ ${#TOK} = 48 ] || { M err "cannot read /dev/urandom"; exit 0; }
printf '%s' "$TOK" >"$TF" || { M err "cannot write $TF"; exit 0; }
unset JUPYTER_TOKEN
JUPYTER_TOKEN_FILE=$TF
export JUPYTER_TOKEN_FILE
R=
[ "$(id -u)" = 0 ] && R=--allow-root
SS=
command -v setsid >/dev/null 2>&1 && SS=setsid
cd "$HOME" || cd /
$SS nohup "$J" "$APP" --no-browser --ip=127.0.0.1 --port="$PORT" --port-retries="$RETRIES" $R >>"$LOG" 2>&1 </dev/null &
P=$!
printf '%s\n' "$P" >"$JD/jupyter.pid"
M pid "$P" "$APP"
i=0
F=
while [ $i -lt "$WAIT" ]; do
	for f in "$RT/jpserver-$P.json" "$RT/nbserver-$P.json" "$HOME/.local/share/jupyter/runtime/jpserver-$P.json" "$HOME/.local/share/jupyter/runtime/nbserver-$P.json"; do
		[ -f "$f" ] && grep -q '}' "$f" 2>/dev/null && F=$f
	done
	[ -n "$F" ] && break
	child "$P" || break
	nap
	i=$((i + 1))
done
if [ -z "$F" ]; then
	if child "$P"; then M timeout; kill "$P" 2>/dev/null; else M died; fi
	rm -f "$TF" "$JD/jupyter.pid"
	M logtail "$LOG"
	tail -n 20 "$LOG" 2>/dev/null | cut -c 1-300
	exit 0
fi
rm -f "$TF"
case $(cat "$F" 2>/dev/null) in *"$TOK"*) ;; *) M notoken ;; esac
TOK=
M file "${F##*/}" "$P"
dd if="$F" bs=65536 count=1 2>/dev/null
M log "$LOG"
grep -E '(https?|http[+]unix)://|is running at' "$LOG" 2>/dev/null | tail -n 20 | cut -c 1-2048
M end
