# jupyter_lib.sh - helpers shared by the t_jupyter_* scripts (sourced
# after lib.sh): run jconnect until the URL is out, take the URL apart,
# query api/status through the tunnel.
# jc_open OUT ERR [ARGS...] : jconnect in the background until the URL is out.
jc_open() {
	local out=$1 err=$2; shift 2
	# shellcheck disable=SC2086
	"$JC" --no-browser $SSH_OPTS "$@" "$SSH_TARGET" >"$out" 2>"$err" &
	_jc=$!
	_bg="${_bg:-} $_jc"
	wait_for 90 grep -q '^http' "$out"
}
jc_close() { kill -TERM "$_jc" 2>/dev/null; wait "$_jc" 2>/dev/null; }
# jc_open_ok LABEL OUT ERR [ARGS...]: jc_open, reported as test LABEL; on
# failure show why and end the test file.
jc_open_ok() {
	local what=$1; shift
	if jc_open "$@"; then
		ok "$what"
	else
		not_ok "$what"; show "$2"
		[ -f "$RHOME/.jconnect/jupyter.log" ] &&
			show "$RHOME/.jconnect/jupyter.log"
		exit 1
	fi
}
url_port() { echo "$1" | sed -E 's|^https?://127\.0\.0\.1:([0-9]+)/.*|\1|'; }
url_token() { echo "$1" | sed -nE 's|.*[?&]token=([^&#]+).*|\1|p'; }
# api_status PORT BASE TOKEN : HTTP code of BASEapi/status through the tunnel.
api_status() {
	curl -s -o /dev/null -w '%{http_code}' -m 10 \
	    ${3:+-H "Authorization: token $3"} "http://127.0.0.1:$1${2}api/status"
}
