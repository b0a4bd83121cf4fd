# shellcheck shell=sh
# Stop jconnect's own server, after common.sh; the prelude sets N.
# Comment lines are left out of the embedded string.
[ -f "$JD/jupyter.pid" ] || { M none; exit 0; }
read -r P <"$JD/jupyter.pid"
case $P in ''|*[!0-9]*) rm -f "$JD/jupyter.pid"; M none; exit 0 ;; esac
if ! alive "$P"; then rm -f "$JD/jupyter.pid" "$JD/jupyter.token"; M gone "$P"; exit 0; fi
if [ -r "/proc/$P/environ" ] && ! tr '\000' '\n' <"/proc/$P/environ" | grep -F -x -q "JUPYTER_TOKEN_FILE=$JD/jupyter.token"; then
	M notours "$P"
	exit 0
fi
kill -TERM "$P" 2>/dev/null
i=0
while alive "$P" && [ $i -lt 50 ]; do nap; i=$((i + 1)); done
if alive "$P"; then kill -KILL "$P" 2>/dev/null; M killed "$P"; else M stopped "$P"; fi
rm -f "$JD/jupyter.pid" "$JD/jupyter.token"
M end
