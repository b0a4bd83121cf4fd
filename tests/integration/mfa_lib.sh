# mfa_lib.sh - the world of the MFA tunnel tests (sourced after lib.sh):
# the rig with an agent paced like AWS's and a fake STS whose role
# "tunnel" wants the code $CODE of $SERIAL and gives sessions that live
# 335 s (35 s before jconnect renews); AWS_PROFILE=tun is that role, its
# source the rig's keys (profile base), the only credentials there are.
# Gives CODE, SERIAL, REQ (the fake AWS's request log) and TTYRUN.

CODE=472913
SERIAL=arn:aws:iam::123456789012:mfa/ana
rig_start sshd jupyter agent aws --agent-pace 1 --scenario-add "{\"roles\":
    {\"arn:aws:iam::123456789012:role/tunnel\": {\"mfa_serial\": \"$SERIAL\",
     \"mfa_code\": \"$CODE\", \"ttl\": 335}}}"
REQ=$AWS_STATE/requests.jsonl

unset AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY AWS_SESSION_TOKEN
mkdir -p "$HOME/.aws"
cat >"$HOME/.aws/config" <<CFGEOF
[profile base]
aws_access_key_id = AKIDEXAMPLERIG000001
aws_secret_access_key = rigsecretrigsecretrigsecretrigsecret0001

[profile tun]
role_arn = arn:aws:iam::123456789012:role/tunnel
source_profile = base
mfa_serial = $SERIAL
duration_seconds = 3600
region = us-east-1
CFGEOF
export AWS_CONFIG_FILE=$HOME/.aws/config AWS_PROFILE=tun

# Types the MFA code at each prompt on a pseudo-terminal.
TTYRUN=$ROOT/tests/tools/ttyrun.py
