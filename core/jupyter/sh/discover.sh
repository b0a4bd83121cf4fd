# shellcheck shell=sh
# Discovery, after common.sh; the prelude sets N and LOGF (a log file to
# read, or empty).  Comment lines are left out of the embedded string.
M id "$(id -u)" "$(id -un)"
M jupyter "$J"
HANG=0
RT1=${JUPYTER_RUNTIME_DIR:-}
if [ -z "$RT1" ] && [ -n "$J" ]; then
	RT1=$($TO "$J" --runtime-dir </dev/null 2>/dev/null)
	[ $? -eq 124 ] && HANG=1 && M hang 'jupyter --runtime-dir'
fi
LIVE=0
SEEN=:
for RT in "$RT1" "$HOME/.local/share/jupyter/runtime" "$HOME/Library/Jupyter/runtime"; do
	# shellcheck disable=SC2015 # skip when either test fails, as meant
	[ -n "$RT" ] && [ -d "$RT" ] || continue
	case $SEEN in *":$RT:"*) continue ;; esac
	SEEN="$SEEN$RT:"
	M runtime "$RT"
	k=0
	S=0
	for f in $(cd "$RT" 2>/dev/null && ls -t 2>/dev/null); do
		case $f in nbserver-*.json|jpserver-*.json) ;; *) continue ;; esac
		p=${f#??server-}
		p=${p%.json}
		case $p in ''|*[!0-9]*) continue ;; esac
		k=$((k + 1))
		[ $k -gt 300 ] && break
		if alive "$p"; then
			LIVE=$((LIVE + 1))
			[ $LIVE -gt 32 ] && continue
			M file "$f" "$p"
			dd if="$RT/$f" bs=65536 count=1 2>/dev/null
		else
			S=$((S + 1))
		fi
	done
	M stale "$S"
done
if [ "$LIVE" = 0 ] && [ -n "$J" ] && [ "$HANG" = 0 ]; then
	for a in server notebook; do
		o=$($TO "$J" "$a" list --jsonlist </dev/null 2>/dev/null)
		rc=$?
		if [ $rc -eq 124 ]; then M hang "jupyter $a list"; break; fi
		[ $rc -ne 0 ] && o=$($TO "$J" "$a" list --json </dev/null 2>/dev/null)
		M list "$a"
		printf '%s\n' "$o"
	done
fi
OURS=
if [ -f "$JD/jupyter.pid" ]; then
	read -r op <"$JD/jupyter.pid"
	case $op in ''|*[!0-9]*) ;; *) alive "$op" && OURS=$op && M ours "$op" ;; esac
fi
GA=-a
echo | grep -a x >/dev/null 2>&1
[ $? -gt 1 ] && GA=
PAT='(https?|http[+]unix)://|is running at|is listening on|received signal|Shutting down|Shutdown confirmed|could not be started'
for L in "$LOGF" "${OURS:+$JD/jupyter.log}"; do
	[ -n "$L" ] || continue
	if [ ! -f "$L" ] || [ ! -r "$L" ]; then M nolog "$L"; continue; fi
	M log "$L"
	LC_ALL=C $TO grep $GA -E "$PAT" "$L" </dev/null 2>/dev/null | tail -n 400 | cut -c 1-2048
done
M end
