# bash completion for jconnect                                -*- sh -*-
# Subcommands, options, and aliases from the config file.

_jconnect()
{
	local cur prev words cword
	_init_completion 2>/dev/null || {
		cur=${COMP_WORDS[COMP_CWORD]}
		prev=${COMP_WORDS[COMP_CWORD-1]}
	}
	local cmds="open url proxy keys resolve ls stop ssh-config login plugins
		aliases help version"
	local opts="--via -i --identity -l --login -p --port --jupyter-port
		--jupyter-log --start-jupyter --remote-port --local-port
		--forward
		--no-browser -f --background --start-instance --json --region
		--profile --known-hosts --host-key-check --timeout --install-keys
		--key --remove --generate --push-key --all --jupyter -F --config
		-o --option --plugin-dir -v --verbose -q --quiet -h --help
		--version --all-aliases --install --file"

	case $prev in
	--via) COMPREPLY=($(compgen -W "ssm ssh eice auto" -- "$cur")); return ;;
	--host-key-check)
		COMPREPLY=($(compgen -W "strict accept-new" -- "$cur")); return ;;
	-i|--identity|--key|--known-hosts|-F|--config|--file)
		COMPREPLY=($(compgen -f -- "$cur")); return ;;
	--plugin-dir) COMPREPLY=($(compgen -d -- "$cur")); return ;;
	-o|--option)
		# The keys jconnect checks -o against (jconnect --help).
		COMPREPLY=($(compgen -W "aws.credential_process_timeout=
		    aws.max_attempts= aws.ssm_timeout= aws.start_timeout=
		    eice.endpoint_id= eice.endpoint_url= eice.max_tunnel_s=
		    jupyter.check_s=
		    ssh.ciphers= ssh.compression= ssh.global_known_hosts= ssh.keepalive=
		    ssm.chunk_size= ssm.compress= ssm.connect_timeout_s= ssm.dead_s= ssm.give_up_s=
		    ssm.handshake_s= ssm.ping_s= ssm.reconnect_s=
		    ssm.session_idle_s= ssm.sessions=
		    ssm.smux_keepalive_ms= ssm.window=
		    tunnel.give_up_s=" -- "$cur"))
		compopt -o nospace 2>/dev/null
		return ;;
	help) COMPREPLY=($(compgen -W "$cmds" -- "$cur")); return ;;
	--profile)
		# The profiles of the AWS config file (also for login).
		COMPREPLY=($(compgen -W "$(sed -n -e 's/^\[profile  *\(.*\)\]/\1/p' \
		    -e 's/^\[default\]/default/p' \
		    "${AWS_CONFIG_FILE:-$HOME/.aws/config}" 2>/dev/null)" -- "$cur"))
		return ;;
	-l|--login|-p|--port|--jupyter-port|--jupyter-log|--remote-port|\
	--local-port|--forward|--region|--timeout) return ;;
	esac
	if [[ $cur == -* ]]; then
		COMPREPLY=($(compgen -W "$opts" -- "$cur"))
	elif [ "$COMP_CWORD" = 1 ]; then
		COMPREPLY=($(compgen -W "$cmds $(jconnect aliases 2>/dev/null)" \
		    -- "$cur"))
	else
		COMPREPLY=($(compgen -W "$(jconnect aliases 2>/dev/null)" \
		    -- "$cur"))
	fi
}
complete -F _jconnect jconnect
