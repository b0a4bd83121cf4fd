#!/bin/bash
# A path that goes silent (Wi-Fi lost, then back on another network): no
# FIN, no RST, packets just vanish, on the AWS API path, the Session
# Manager WebSocket (the StreamUrl StartSession hands out goes through a
# proxy too) and the SSH connection.  Every connection made before stays
# silent for good; new ones work once the path is back.  Keepalives find
# the dead connections within seconds, and each tunnel (background over
# SSM and over SSH, foreground over SSM) serves again within 10 s of the
# path coming back, on the same local port.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/jupyter_lib.sh"

rig_proxied

SSM=(--via ssm -l "$SSH_USER" demo-stack)
SSHT=(-i "$SSH_KEY" -p "$SSHP_PORT" --known-hosts "$KNOWN_HOSTS"
    "$SSH_USER@127.0.0.1")

u_ssm=$(timeout 120 "$JC" url "${SSM[@]}" 2>"$T/bg-ssm.err")
u_ssh=$(timeout 120 "$JC" url "${SSHT[@]}" 2>"$T/bg-ssh.err")
"$JC" --json --no-browser -o ssm.compress=no "${SSM[@]}" \
    >"$T/fg.json" 2>"$T/fg.err" &
_fg=$!
_bg="$_bg $_fg"
wait_for 90 grep -q '"event":"ready"' "$T/fg.json"
u_fg=$("$PY" -c 'import json, sys
for l in open(sys.argv[1]):
    e = json.loads(l)
    if e.get("event") == "url":
        print(e["url"]); break' "$T/fg.json")
for n in ssm ssh fg; do
	eval "u=\$u_$n"
	check "$n: a URL before the fault" test -n "$u"
	check "$n: it works" \
	    test "$(api_status "$(url_port "$u")" / "$(url_token "$u")")" = 200
done

# A tab in use: a request per tunnel every second while the path is gone.
tab() {
	while :; do
		api_status "$(url_port "$1")" / "$(url_token "$1")" >/dev/null
		sleep 1
	done
}
for u in "$u_ssm" "$u_ssh" "$u_fg"; do
	tab "$u" & _bg="$_bg $!"
done
paths stall
sleep 12
paths strand		# back, as another network: old connections dead
t0=$(date +%s%N)

back() {	# back URL : seconds until URL works again, or "never" (40 s)
	local t
	for _ in $(seq 160); do
		if [ "$(curl -s -o /dev/null -w '%{http_code}' -m 2 -H \
		    "Authorization: token $(url_token "$1")" \
		    "http://127.0.0.1:$(url_port "$1")/api/status")" = 200 ]
		then
			t=$(( ($(date +%s%N) - t0) / 1000000 ))
			echo "$((t / 1000)).$(printf '%03d' $((t % 1000)))"
			return
		fi
		sleep 0.25
	done
	echo never
}
for n in ssm ssh fg; do		# all at once: each has its own clock
	eval "u=\$u_$n"
	back "$u" >"$T/back.$n" &
done
wait_for 60 sh -c "[ -s '$T/back.ssm' ] && [ -s '$T/back.ssh' ] && [ -s '$T/back.fg' ]"
for n in ssm ssh fg; do
	s=$(cat "$T/back.$n")
	check "$n: serves again ${s} s after the path came back (<= 10)" \
	    awk -v s="$s" 'BEGIN { exit !(s != "never" && s <= 10) }'
done
check "ssm: jconnect url still names the same port" \
    test "$(url_port "$(timeout 30 "$JC" url "${SSM[@]}" 2>/dev/null)")" = \
    "$(url_port "$u_ssm")"
check "the foreground tunnel said it lost the path" \
    grep -q 'went silent\|reconnecting\|resum' "$T/fg.err"
diag "$(grep -h 'silent\|lost\|resum\|stopped answering' "$T/fg.err" \
    "$XDG_STATE_HOME"/jconnect/*.log 2>/dev/null | head -n 8)"
kill "$_fg" 2>/dev/null
