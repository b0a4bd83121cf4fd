#!/bin/bash
# How long a dropped tunnel keeps trying, and what it says meanwhile.
# Credentials come from a credential_process whose keys are always about
# to expire (so each try runs it again), and which gets no descriptor of
# jconnect's but 0, 1 and 2.  With tunnel.give_up_s=3: the
# process breaks, Session Manager ends the session, and the tunnel keeps
# its port well past 3 s, saying once that it waits for credentials and
# each error once, not at every try; once the process works again it
# reconnects on the same port.  Then the SSM agent goes away for good:
# that the tunnel gives up on after 3 s, with one line saying so.
. "$(dirname "$0")/lib.sh"

rig_start sshd jupyter agent aws
SECRET=$AWS_SECRET_ACCESS_KEY
unset AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY
# good : keys that expire in 302 s: 2 s later they are within the 300 s
# jconnect renews ahead, and every use runs the process again.
good() {
	printf '{"Version": 1, "AccessKeyId": "AKIDEXAMPLERIG000001", "SecretAccessKey": "%s", "Expiration": "%s"}\n' \
	    "$SECRET" "$(date -u -d '+302 sec' +%Y-%m-%dT%H:%M:%SZ)" \
	    >"$T/proc.json.tmp" && mv "$T/proc.json.tmp" "$T/proc.json"
}
good
# The process also notes the descriptors it was given.
printf '[profile wait]\nregion = us-east-1\ncredential_process = sh -c '"'"'ls -l /proc/$$/fd >>"%s"; cat "%s"'"'"'\n' \
    "$T/fds" "$T/proc.json" >"$T/aws-config"
export AWS_CONFIG_FILE=$T/aws-config AWS_PROFILE=wait

"$JC" --no-browser --local-port "$(free_port)" --via ssm -l "$SSH_USER" \
    -o ssm.compress=no \
    -o tunnel.give_up_s=3 -o ssm.reconnect_s=2 demo-stack \
    >"$T/out" 2>"$T/err" &
jc=$!
_bg="${_bg:-} $jc"
if ! wait_for 40 grep -q '^http' "$T/out"; then
	not_ok "the tunnel starts"; show "$T/err"; exit 1
fi
url=$(head -n1 "$T/out")
check "the tunnel answers" curl -fsS -m 10 -o /dev/null "$url"

# The keys' process breaks; Session Manager ends the session; a request
# needs a new one.
sleep 3
echo '{}' >"$T/proc.json"
faults '{"end_session": 1}'
curl -s -m 5 -o /dev/null "$url"
check "it says it waits for credentials" \
    wait_for 20 grep -q 'waiting for AWS credentials that work' "$T/err"
sleep 15
check "after 15 s (tunnel.give_up_s=3) it still runs" kill -0 "$jc"
check "  ... having said so once" \
    test "$(grep -c 'waiting for AWS credentials' "$T/err")" = 1
n=$(grep -c 'AWS-StartNonInteractiveCommand.*"Version" must be 1' "$T/err")
check "  ... and each try's error once ($n times)" test "$n" = 1
good
check "once the keys work again it reconnects" \
    wait_for 30 grep -q 'reconnected; still on' "$T/err"
check "  ... and the same URL answers" curl -fsS -m 10 -o /dev/null "$url"
check "credential_process, run again and again while the tunnel ran, got none of its sockets" \
    sh -c "grep -q ' 0 -> ' '$T/fds' && ! grep -q 'socket:' '$T/fds'"

# The agent goes away for good: given up on after tunnel.give_up_s.
rig_stop agent >/dev/null 2>&1
t0=$(date +%s)
st=0
if wait_for 90 sh -c "! kill -0 $jc"; then
	wait "$jc" || st=$?
	t1=$(date +%s)
	check "with the agent gone it gives up ($((t1 - t0)) s, exit $st)" \
	    test "$st" != 0
	check "  ... saying within how long" \
	    grep -q 'could not reconnect within 3 s; giving up' "$T/err"
	n=$(grep -c 'cannot connect to' "$T/err")
	check "  ... and that it cannot reach the agent once, not per session ($n)" \
	    test "$n" = 1
else
	not_ok "with the agent gone it gives up"; show "$T/err"
fi
