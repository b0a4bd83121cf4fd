#!/bin/bash
# The instance stopped and started again under a tunnel (same id, a new
# public IP, its SSM agent back a while after it runs), over SSM and over
# SSH, in the foreground and in the background, with and without
# --start-instance.  The browser tab keeps asking meanwhile.  The tunnel
# must say once that it waits for the instance (not once per try), serve
# again on the same local port once the instance is back (over SSH at
# its new address), and with --start-instance start it itself; the
# compressed path over SSM, refused before (no sshd yet), is tried again.
. "$(dirname "$0")/lib.sh"

IID=i-0123456789abcdef0
# EC2 gives a new public IP at each start: the rig's are loopback
# addresses, fake_lifecycle.py's front listens at the current one.
cat >"$T/scenario.json" <<SCEOF
{
 "region": "us-east-1",
 "stacks": {"demo-stack": {"resources": [{
   "LogicalResourceId": "Notebook", "PhysicalResourceId": "$IID",
   "ResourceType": "AWS::EC2::Instance"}]}},
 "instances": {"$IID": {
   "state": "running",
   "tags": {"Name": "demo-notebook",
            "aws:cloudformation:stack-name": "demo-stack"},
   "public_ip": "127.0.0.2",
   "public_ips": ["127.0.0.2", "127.0.0.3", "127.0.0.4", "127.0.0.5",
                  "127.0.0.6"],
   "private_ip": "10.0.0.5", "ssm_online": true,
   "stopping_seconds": 2, "pending_seconds": 2, "ssm_online_delay": 2,
   "agent_version": "3.3.40.0"}}
}
SCEOF
rig_start sshd jupyter agent aws --scenario "$T/scenario.json"
FRONT_PORT=$(free_port)
"$PY" "$ROOT/tests/rig/fake_lifecycle.py" front --ssm-state "$AGENT_STATE" \
    --instance "$IID" --ip 127.0.0.2 --port "$FRONT_PORT" --to "$SSHD_PORT" \
    >"$T/front.log" 2>&1 &
_bg="${_bg:-} $!"
wait_for 10 grep -q listening "$T/front.log"

ec2() { /usr/bin/aws --endpoint-url "$AWS_ENDPOINT_URL" ec2 "$@" \
    --instance-ids "$IID" >/dev/null 2>>"$T/cli.err"; }
starts() { grep -c '"action": "StartInstances"' "$AWS_STATE/requests.jsonl"; }
status_ok() { [ "$(curl -s -o /dev/null -w '%{http_code}' -m 5 \
    "http://127.0.0.1:$port/api/status?token=$token")" = 200 ]; }

# one_case VIA fg|bg start|nostart [compressed]
one_case() {
	local via=$1 mode=$2 how=$3 label="$1 $2 $3${4:+ $4}" url errf poker
	local c0=$(date +%s) lines0 said total n0 t0 t1
	local opts=(--no-browser --via "$via" -l "$SSH_USER" -o aws.ssm_timeout=30)
	if [ "${4:-}" = compressed ]; then
		# An sshd that only answers once the instance is back: the
		# compressed path fails at first, works after the restart.
		late_sshd=$(free_port)
		opts+=(-v -p "$late_sshd")
	else
		opts+=(-o ssm.compress=no)
	fi
	[ "$via" = ssh ] && opts+=(-i "$SSH_KEY" -p "$FRONT_PORT"
	    --known-hosts "$KNOWN_HOSTS")
	[ "$how" = start ] && opts+=(--start-instance)
	if [ "$mode" = fg ]; then
		errf=$T/err.$via.$mode.$how
		"$JC" "${opts[@]}" demo-stack >"$T/out" 2>"$errf" &
		jc=$!
		wait_for 40 grep -q '^http' "$T/out"
		url=$(head -n1 "$T/out")
	else
		url=$(timeout 60 "$JC" url "${opts[@]}" demo-stack \
		    2>"$T/url.err")
		errf=$(ls -t "$XDG_STATE_HOME"/jconnect/*.log 2>/dev/null |
		    head -n1)
	fi
	if [ -z "$url" ]; then
		not_ok "$label: a URL"; show "$T/url.err"; show "$errf"
		return
	fi
	port=$(echo "$url" | sed -E 's|^http://127\.0\.0\.1:([0-9]+)/.*|\1|')
	token=$(echo "$url" | sed -E 's|.*[?&]token=([0-9a-f]+).*|\1|')
	check "$label: the tunnel serves" status_ok
	lines0=$(wc -l <"$errf")
	n0=$(starts)

	ec2 stop-instances
	# The browser tab keeps asking, twice a second.
	(while :; do curl -s -o /dev/null -m 3 \
	    "http://127.0.0.1:$port/api/status?token=$token"; sleep 0.5; done) &
	poker=$!
	if wait_for 20 grep -q "instance $IID is stopp" "$errf"; then
		ok "$label: it says it waits for the instance"
	else
		not_ok "$label: it says it waits for the instance"
		show "$errf"
	fi
	if [ "${4:-}" = compressed ]; then
		check "$label: no compressed path while no sshd answers" wait_for 20 \
		    grep -q 'compressed path unavailable' "$errf"
		"$PY" "$ROOT/tests/rig/delayproxy.py" --listen "$late_sshd" \
		    --to "$SSHD_PORT" --rtt-ms 0 >"$T/late.log" 2>&1 &
		_bg="${_bg:-} $!"
	fi
	if [ "$how" = nostart ]; then
		sleep 8		# many tries' worth: none may say it again
		check "$label: nobody started the instance" \
		    test "$(starts)" = "$n0"
		ec2 start-instances
	fi
	t0=$(now_ms)
	wait_for 40 status_ok
	t1=$(now_ms)
	kill "$poker" 2>/dev/null
	wait "$poker" 2>/dev/null
	check "$label: serves again on the same port, $((t1 - t0)) ms after the start" \
	    status_ok
	if [ "$how" = start ]; then
		check "$label: jconnect started the instance itself ($n0 -> $(starts))" \
		    test "$(starts)" = $((n0 + 1))
	fi
	# A background tunnel's log holds the earlier cases too.
	said=$(tail -n +$((lines0 + 1)) "$errf" | grep -c "instance $IID is stopp")
	total=$(( $(wc -l <"$errf") - lines0 ))
	if [ "${4:-}" = compressed ]; then
		check "$label: said once that it waits ($said)" test "$said" = 1
		# The compressed path is set up again on the new instance.
		check "$label: the compressed path is up again" wait_for 30 \
		    sh -c "tail -n +$((lines0 + 1)) '$errf' | grep -q 'compressed path up'"
	else
		check "$label: said once that it waits ($said), $total lines in all" \
		    test "$said" = 1 -a "$total" -le 12
	fi
	if [ "$via" = ssh ]; then
		check "$label: it dialled the new public address" \
		    grep -q "$IID has a new address: 127.0.0" "$errf"
	fi
	if [ "$mode" = fg ]; then
		kill -INT "$jc"
		wait "$jc"
	else
		"$JC" stop demo-stack 2>/dev/null
	fi
	check "$label: the case took $(( $(date +%s) - c0 )) s (< 60)" \
	    test $(( $(date +%s) - c0 )) -lt 60
	diag "$(tail -n +$((lines0 + 1)) "$errf" | head -n 12)"
}

one_case ssm fg nostart
one_case ssm bg start
one_case ssh fg start
one_case ssh bg nostart
one_case ssm fg nostart compressed
check "the fake agent saw no protocol violation" agent violations
