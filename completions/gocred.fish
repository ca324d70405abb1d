# Print an optspec for argparse to handle cmd's options that are independent of any subcommand.
function __fish_gocred_global_optspecs
    string join \n q/quiet ci-job-token h/help V/version
end

function __fish_gocred_needs_command
    # Figure out if the current invocation already has a command.
    set -l cmd (commandline -opc)
    set -e cmd[1]
    argparse -s (__fish_gocred_global_optspecs) -- $cmd 2>/dev/null
    or return
    if set -q argv[1]
        # Also print the command, so this can be used to figure out what it is.
        echo $argv[1]
        return 1
    end
    return 0
end

function __fish_gocred_using_subcommand
    set -l cmd (__fish_gocred_needs_command)
    test -z "$cmd"
    and return 1
    contains -- $cmd[1] $argv
end

complete -c gocred -n "__fish_gocred_needs_command" -s q -l quiet -d 'Print no notes (why a host got nothing, what was left out): only errors. Same as GOCRED_QUIET=1, which `gocred exec` then hands to its command'
complete -c gocred -n "__fish_gocred_needs_command" -l ci-job-token -d 'Serve the CI job\'s own token to the CI server, as `[ci] job_token = true` does (what `gocred setup ci` puts in git\'s helper, before the action). Same as GOCRED_CI_JOB_TOKEN=1'
complete -c gocred -n "__fish_gocred_needs_command" -s h -l help -d 'Print help'
complete -c gocred -n "__fish_gocred_needs_command" -s V -l version -d 'Print version'
complete -c gocred -n "__fish_gocred_needs_command" -f -a "get" -d 'Git credential helper: answer a request on stdin (git-credential(1))'
complete -c gocred -n "__fish_gocred_needs_command" -f -a "store" -d 'Git credential helper: keep the credential on stdin, where the matching rule says'
complete -c gocred -n "__fish_gocred_needs_command" -f -a "erase" -d 'Git credential helper: forget the credential on stdin'
complete -c gocred -n "__fish_gocred_needs_command" -f -a "status" -d 'Show every rule, its sources and what is stored (never a secret)'
complete -c gocred -n "__fish_gocred_needs_command" -f -a "config" -d 'Inspect the policy file'
complete -c gocred -n "__fish_gocred_needs_command" -f -a "netrc" -d 'Print a netrc for Go with the credential of every host policy allows (never for others)'
complete -c gocred -n "__fish_gocred_needs_command" -f -a "exec" -d 'Run a command with a private netrc and gocred as git\'s helper, for as long as it runs'
complete -c gocred -n "__fish_gocred_needs_command" -f -a "login" -d 'Log in to a host: a personal access token (--with-token) or the OAuth device flow'
complete -c gocred -n "__fish_gocred_needs_command" -f -a "logout" -d 'Forget what is stored for a host (OAuth tokens are revoked first)'
complete -c gocred -n "__fish_gocred_needs_command" -f -a "goauth" -d 'GOAUTH command for the go command: GOAUTH=\'gocred goauth\' (see `go help goauth`)'
complete -c gocred -n "__fish_gocred_needs_command" -f -a "setup" -d 'Configure git or go for the hosts policy names'
complete -c gocred -n "__fish_gocred_needs_command" -f -a "import-netrc" -d 'Move the credentials of a plaintext netrc into the stores policy names'
complete -c gocred -n "__fish_gocred_needs_command" -f -a "doctor" -d 'Check network, Go routing and auth for a private module, with the fix for each failure'
complete -c gocred -n "__fish_gocred_needs_command" -f -a "agent" -d 'Serve credentials to SSH hosts and dev containers, scoped by policy and --allow'
complete -c gocred -n "__fish_gocred_needs_command" -f -a "ssh" -d 'ssh to HOST with the agent\'s socket forwarded and GOCRED_AGENT set there'
complete -c gocred -n "__fish_gocred_needs_command" -f -a "why" -d 'Explain what gocred, git and go do for a URL, module path or git remote, and why'
complete -c gocred -n "__fish_gocred_needs_command" -f -a "audit" -d 'Print the audit log, filtered by host or time (never a secret)'
complete -c gocred -n "__fish_gocred_needs_command" -f -a "completions" -d 'Print the completion script for a shell (bash, zsh, fish, elvish, powershell)'
complete -c gocred -n "__fish_gocred_needs_command" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c gocred -n "__fish_gocred_using_subcommand get" -s q -l quiet -d 'Print no notes (why a host got nothing, what was left out): only errors. Same as GOCRED_QUIET=1, which `gocred exec` then hands to its command'
complete -c gocred -n "__fish_gocred_using_subcommand get" -s h -l help -d 'Print help'
complete -c gocred -n "__fish_gocred_using_subcommand store" -s q -l quiet -d 'Print no notes (why a host got nothing, what was left out): only errors. Same as GOCRED_QUIET=1, which `gocred exec` then hands to its command'
complete -c gocred -n "__fish_gocred_using_subcommand store" -s h -l help -d 'Print help'
complete -c gocred -n "__fish_gocred_using_subcommand erase" -s q -l quiet -d 'Print no notes (why a host got nothing, what was left out): only errors. Same as GOCRED_QUIET=1, which `gocred exec` then hands to its command'
complete -c gocred -n "__fish_gocred_using_subcommand erase" -s h -l help -d 'Print help'
complete -c gocred -n "__fish_gocred_using_subcommand status" -l json -d 'Print the status as one JSON object (schema 1; see JSON OUTPUT below)'
complete -c gocred -n "__fish_gocred_using_subcommand status" -s q -l quiet -d 'Print no notes (why a host got nothing, what was left out): only errors. Same as GOCRED_QUIET=1, which `gocred exec` then hands to its command'
complete -c gocred -n "__fish_gocred_using_subcommand status" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c gocred -n "__fish_gocred_using_subcommand config; and not __fish_seen_subcommand_from check path init help" -s q -l quiet -d 'Print no notes (why a host got nothing, what was left out): only errors. Same as GOCRED_QUIET=1, which `gocred exec` then hands to its command'
complete -c gocred -n "__fish_gocred_using_subcommand config; and not __fish_seen_subcommand_from check path init help" -s h -l help -d 'Print help'
complete -c gocred -n "__fish_gocred_using_subcommand config; and not __fish_seen_subcommand_from check path init help" -f -a "check" -d 'Validate the policy file; report every problem with file, line and column'
complete -c gocred -n "__fish_gocred_using_subcommand config; and not __fish_seen_subcommand_from check path init help" -f -a "path" -d 'Print where the policy file is read from'
complete -c gocred -n "__fish_gocred_using_subcommand config; and not __fish_seen_subcommand_from check path init help" -f -a "init" -d 'Write a starting policy for HOST, every key explained in a comment'
complete -c gocred -n "__fish_gocred_using_subcommand config; and not __fish_seen_subcommand_from check path init help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c gocred -n "__fish_gocred_using_subcommand config; and __fish_seen_subcommand_from check" -s q -l quiet -d 'Print no notes (why a host got nothing, what was left out): only errors. Same as GOCRED_QUIET=1, which `gocred exec` then hands to its command'
complete -c gocred -n "__fish_gocred_using_subcommand config; and __fish_seen_subcommand_from check" -s h -l help -d 'Print help'
complete -c gocred -n "__fish_gocred_using_subcommand config; and __fish_seen_subcommand_from path" -s q -l quiet -d 'Print no notes (why a host got nothing, what was left out): only errors. Same as GOCRED_QUIET=1, which `gocred exec` then hands to its command'
complete -c gocred -n "__fish_gocred_using_subcommand config; and __fish_seen_subcommand_from path" -s h -l help -d 'Print help'
complete -c gocred -n "__fish_gocred_using_subcommand config; and __fish_seen_subcommand_from init" -l source -d 'Where the rule finds the credential' -r -f -a "keychain\t'The system keychain; `gocred login HOST --with-token` or git\'s `store` fills it'
env\t'An environment variable (CI): `--token-env` (default GOCRED_TOKEN), `--username`'
oauth\t'OAuth device flow (`gocred login HOST`): needs `--provider` and `--client-id`'
file\t'gocred\'s own 0600 file store (no keychain needed)'"
complete -c gocred -n "__fish_gocred_using_subcommand config; and __fish_seen_subcommand_from init" -l username -d 'env: the user name git sends with the token (default oauth2)' -r
complete -c gocred -n "__fish_gocred_using_subcommand config; and __fish_seen_subcommand_from init" -l token-env -d 'env: the variable holding the token (default GOCRED_TOKEN)' -r
complete -c gocred -n "__fish_gocred_using_subcommand config; and __fish_seen_subcommand_from init" -l provider -d 'oauth: who runs the server (gitlab, github or oidc)' -r -f -a "gitlab\t''
github\t''
oidc\t''"
complete -c gocred -n "__fish_gocred_using_subcommand config; and __fish_seen_subcommand_from init" -l client-id -d 'oauth: the OAuth application\'s client id' -r
complete -c gocred -n "__fish_gocred_using_subcommand config; and __fish_seen_subcommand_from init" -l issuer -d 'oauth with provider oidc: the issuer URL' -r
complete -c gocred -n "__fish_gocred_using_subcommand config; and __fish_seen_subcommand_from init" -l force -d 'Replace an existing policy (it is kept as `<file>.bak`)'
complete -c gocred -n "__fish_gocred_using_subcommand config; and __fish_seen_subcommand_from init" -s q -l quiet -d 'Print no notes (why a host got nothing, what was left out): only errors. Same as GOCRED_QUIET=1, which `gocred exec` then hands to its command'
complete -c gocred -n "__fish_gocred_using_subcommand config; and __fish_seen_subcommand_from init" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c gocred -n "__fish_gocred_using_subcommand config; and __fish_seen_subcommand_from help" -f -a "check" -d 'Validate the policy file; report every problem with file, line and column'
complete -c gocred -n "__fish_gocred_using_subcommand config; and __fish_seen_subcommand_from help" -f -a "path" -d 'Print where the policy file is read from'
complete -c gocred -n "__fish_gocred_using_subcommand config; and __fish_seen_subcommand_from help" -f -a "init" -d 'Write a starting policy for HOST, every key explained in a comment'
complete -c gocred -n "__fish_gocred_using_subcommand config; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c gocred -n "__fish_gocred_using_subcommand netrc" -l output -d 'Write the netrc to FILE (mode 0600, replaced atomically) instead of stdout' -r -F
complete -c gocred -n "__fish_gocred_using_subcommand netrc" -l host -d 'Only this host (`host` or `host:port`); may be given several times' -r
complete -c gocred -n "__fish_gocred_using_subcommand netrc" -s q -l quiet -d 'Print no notes (why a host got nothing, what was left out): only errors. Same as GOCRED_QUIET=1, which `gocred exec` then hands to its command'
complete -c gocred -n "__fish_gocred_using_subcommand netrc" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c gocred -n "__fish_gocred_using_subcommand exec" -l host -d 'Only this host (`host` or `host:port`); may be given several times. Default: every host policy allows' -r
complete -c gocred -n "__fish_gocred_using_subcommand exec" -s q -l quiet -d 'Print no notes (why a host got nothing, what was left out): only errors. Same as GOCRED_QUIET=1, which `gocred exec` then hands to its command'
complete -c gocred -n "__fish_gocred_using_subcommand exec" -s h -l help -d 'Print help'
complete -c gocred -n "__fish_gocred_using_subcommand login" -l provider -d 'Who runs the server: the OAuth endpoints of a new rule, the API that checks --with-token' -r -f -a "gitlab\t''
github\t''
oidc\t''"
complete -c gocred -n "__fish_gocred_using_subcommand login" -l client-id -d 'The OAuth application\'s client id (for a host that has no rule yet)' -r
complete -c gocred -n "__fish_gocred_using_subcommand login" -l issuer -d 'The OIDC issuer whose discovery document names the endpoints (provider oidc)' -r
complete -c gocred -n "__fish_gocred_using_subcommand login" -l scope -d 'A scope to ask for instead of the rule\'s (repeat for several)' -r
complete -c gocred -n "__fish_gocred_using_subcommand login" -l user -d 'With --with-token: the user name git sends with the token (the rule\'s `username` wins)' -r
complete -c gocred -n "__fish_gocred_using_subcommand login" -l no-browser -d 'Never open a browser; only show the URL, the code and the QR code'
complete -c gocred -n "__fish_gocred_using_subcommand login" -l save -d 'Add the missing rule to the config file, then log in'
complete -c gocred -n "__fish_gocred_using_subcommand login" -l with-token -d 'Keep a personal access token instead: read from stdin, or asked for (not shown) at a terminal; never an argument'
complete -c gocred -n "__fish_gocred_using_subcommand login" -l no-verify -d 'With --with-token: store the token without checking it with the server first'
complete -c gocred -n "__fish_gocred_using_subcommand login" -l force -d 'Replace a token that is stored and still valid without asking'
complete -c gocred -n "__fish_gocred_using_subcommand login" -s q -l quiet -d 'Print no notes (why a host got nothing, what was left out): only errors. Same as GOCRED_QUIET=1, which `gocred exec` then hands to its command'
complete -c gocred -n "__fish_gocred_using_subcommand login" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c gocred -n "__fish_gocred_using_subcommand logout" -l user -d 'Forget only the entries of this user (default: every user\'s)' -r
complete -c gocred -n "__fish_gocred_using_subcommand logout" -s q -l quiet -d 'Print no notes (why a host got nothing, what was left out): only errors. Same as GOCRED_QUIET=1, which `gocred exec` then hands to its command'
complete -c gocred -n "__fish_gocred_using_subcommand logout" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c gocred -n "__fish_gocred_using_subcommand goauth" -s q -l quiet -d 'Print no notes (why a host got nothing, what was left out): only errors. Same as GOCRED_QUIET=1, which `gocred exec` then hands to its command'
complete -c gocred -n "__fish_gocred_using_subcommand goauth" -s h -l help -d 'Print help'
complete -c gocred -n "__fish_gocred_using_subcommand setup; and not __fish_seen_subcommand_from git go ci help" -s q -l quiet -d 'Print no notes (why a host got nothing, what was left out): only errors. Same as GOCRED_QUIET=1, which `gocred exec` then hands to its command'
complete -c gocred -n "__fish_gocred_using_subcommand setup; and not __fish_seen_subcommand_from git go ci help" -s h -l help -d 'Print help'
complete -c gocred -n "__fish_gocred_using_subcommand setup; and not __fish_seen_subcommand_from git go ci help" -f -a "git" -d 'Make git ask gocred, and only gocred, for the hosts policy names'
complete -c gocred -n "__fish_gocred_using_subcommand setup; and not __fish_seen_subcommand_from git go ci help" -f -a "go" -d 'Keep the policy\'s hosts private in Go (GOPRIVATE, GONOSUMDB, GONOPROXY)'
complete -c gocred -n "__fish_gocred_using_subcommand setup; and not __fish_seen_subcommand_from git go ci help" -f -a "ci" -d 'In a CI job: git asks gocred for the CI server, which serves the job\'s own token'
complete -c gocred -n "__fish_gocred_using_subcommand setup; and not __fish_seen_subcommand_from git go ci help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c gocred -n "__fish_gocred_using_subcommand setup; and __fish_seen_subcommand_from git" -l global -d 'Write to the user\'s global git config (the default)'
complete -c gocred -n "__fish_gocred_using_subcommand setup; and __fish_seen_subcommand_from git" -l system -d 'Write to the system git config'
complete -c gocred -n "__fish_gocred_using_subcommand setup; and __fish_seen_subcommand_from git" -l local -d 'Write to the current repository\'s config'
complete -c gocred -n "__fish_gocred_using_subcommand setup; and __fish_seen_subcommand_from git" -l dry-run -d 'Print the git config commands instead of running them'
complete -c gocred -n "__fish_gocred_using_subcommand setup; and __fish_seen_subcommand_from git" -l undo -d 'Put back what `gocred setup git` replaced, where it still holds what setup wrote'
complete -c gocred -n "__fish_gocred_using_subcommand setup; and __fish_seen_subcommand_from git" -s q -l quiet -d 'Print no notes (why a host got nothing, what was left out): only errors. Same as GOCRED_QUIET=1, which `gocred exec` then hands to its command'
complete -c gocred -n "__fish_gocred_using_subcommand setup; and __fish_seen_subcommand_from git" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c gocred -n "__fish_gocred_using_subcommand setup; and __fish_seen_subcommand_from go" -l shell -d 'Print `export` lines for this shell (default: sh), every value quoted for it' -r -f -a "sh\t'POSIX sh, dash, bash, zsh (export lines)'
fish\t'fish (set -gx lines)'"
complete -c gocred -n "__fish_gocred_using_subcommand setup; and __fish_seen_subcommand_from go" -l write -d 'Write the values with `go env -w` (into Go\'s own config file)'
complete -c gocred -n "__fish_gocred_using_subcommand setup; and __fish_seen_subcommand_from go" -s q -l quiet -d 'Print no notes (why a host got nothing, what was left out): only errors. Same as GOCRED_QUIET=1, which `gocred exec` then hands to its command'
complete -c gocred -n "__fish_gocred_using_subcommand setup; and __fish_seen_subcommand_from go" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c gocred -n "__fish_gocred_using_subcommand setup; and __fish_seen_subcommand_from ci" -l dry-run -d 'Print the git config commands instead of running them'
complete -c gocred -n "__fish_gocred_using_subcommand setup; and __fish_seen_subcommand_from ci" -s q -l quiet -d 'Print no notes (why a host got nothing, what was left out): only errors. Same as GOCRED_QUIET=1, which `gocred exec` then hands to its command'
complete -c gocred -n "__fish_gocred_using_subcommand setup; and __fish_seen_subcommand_from ci" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c gocred -n "__fish_gocred_using_subcommand setup; and __fish_seen_subcommand_from help" -f -a "git" -d 'Make git ask gocred, and only gocred, for the hosts policy names'
complete -c gocred -n "__fish_gocred_using_subcommand setup; and __fish_seen_subcommand_from help" -f -a "go" -d 'Keep the policy\'s hosts private in Go (GOPRIVATE, GONOSUMDB, GONOPROXY)'
complete -c gocred -n "__fish_gocred_using_subcommand setup; and __fish_seen_subcommand_from help" -f -a "ci" -d 'In a CI job: git asks gocred for the CI server, which serves the job\'s own token'
complete -c gocred -n "__fish_gocred_using_subcommand setup; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c gocred -n "__fish_gocred_using_subcommand import-netrc" -l save -d 'Append the rules for machines no rule serves to the config file'
complete -c gocred -n "__fish_gocred_using_subcommand import-netrc" -l remove -d 'Delete FILE once every entry is stored and read back'
complete -c gocred -n "__fish_gocred_using_subcommand import-netrc" -s q -l quiet -d 'Print no notes (why a host got nothing, what was left out): only errors. Same as GOCRED_QUIET=1, which `gocred exec` then hands to its command'
complete -c gocred -n "__fish_gocred_using_subcommand import-netrc" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c gocred -n "__fish_gocred_using_subcommand doctor" -l json -d 'Print the checks as JSON'
complete -c gocred -n "__fish_gocred_using_subcommand doctor" -s v -l verbose -d 'List every check, also when all passed'
complete -c gocred -n "__fish_gocred_using_subcommand doctor" -s q -l quiet -d 'Print no notes (why a host got nothing, what was left out): only errors. Same as GOCRED_QUIET=1, which `gocred exec` then hands to its command'
complete -c gocred -n "__fish_gocred_using_subcommand doctor" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c gocred -n "__fish_gocred_using_subcommand agent" -l allow -d 'A host (`gitlab.corp.example`, `host:port`: https) or URL prefix (`https://github.corp.example/team/`) remotes may ask for; may be given several times' -r
complete -c gocred -n "__fish_gocred_using_subcommand agent" -l socket -d 'The socket to listen on (default $XDG_RUNTIME_DIR/gocred/agent/socket)' -r -F
complete -c gocred -n "__fish_gocred_using_subcommand agent" -l read-only -d 'Refuse `store` from remotes (the default)'
complete -c gocred -n "__fish_gocred_using_subcommand agent" -l read-write -d 'Let remotes `store` into the stores the policy names'
complete -c gocred -n "__fish_gocred_using_subcommand agent" -l allow-erase -d 'Let remotes `erase` stored credentials (default: an erase only marks the credential rejected for this agent\'s lifetime)'
complete -c gocred -n "__fish_gocred_using_subcommand agent" -l confirm -d 'Ask at this terminal before the first answer for each host'
complete -c gocred -n "__fish_gocred_using_subcommand agent" -l print-devcontainer -d 'Print the devcontainer.json `mounts`/`remoteEnv` fragment for this agent\'s socket, and exit'
complete -c gocred -n "__fish_gocred_using_subcommand agent" -s q -l quiet -d 'Print no notes (why a host got nothing, what was left out): only errors. Same as GOCRED_QUIET=1, which `gocred exec` then hands to its command'
complete -c gocred -n "__fish_gocred_using_subcommand agent" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c gocred -n "__fish_gocred_using_subcommand ssh" -l socket -d 'The agent\'s socket on this machine (default $XDG_RUNTIME_DIR/gocred/agent/socket)' -r -F
complete -c gocred -n "__fish_gocred_using_subcommand ssh" -s q -l quiet -d 'Print no notes (why a host got nothing, what was left out): only errors. Same as GOCRED_QUIET=1, which `gocred exec` then hands to its command'
complete -c gocred -n "__fish_gocred_using_subcommand ssh" -s h -l help -d 'Print help'
complete -c gocred -n "__fish_gocred_using_subcommand why" -l json -d 'Print the explanation as JSON (schema in gocred-why(1))'
complete -c gocred -n "__fish_gocred_using_subcommand why" -l probe -d 'Ask the sources as `get` does, network included (an OAuth token near its expiry is refreshed); without it nothing leaves this machine'
complete -c gocred -n "__fish_gocred_using_subcommand why" -s q -l quiet -d 'Print no notes (why a host got nothing, what was left out): only errors. Same as GOCRED_QUIET=1, which `gocred exec` then hands to its command'
complete -c gocred -n "__fish_gocred_using_subcommand why" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c gocred -n "__fish_gocred_using_subcommand audit" -l host -d 'Only decisions for this host (a host, host:port or URL; normalized as every host argument)' -r
complete -c gocred -n "__fish_gocred_using_subcommand audit" -l since -d 'Only decisions at or after T: RFC 3339 (2026-12-05T13:00:00Z), a date (2026-12-05), or a time ago (30m, 2h, 7d)' -r
complete -c gocred -n "__fish_gocred_using_subcommand audit" -l until -d 'Only decisions before T (same forms as --since)' -r
complete -c gocred -n "__fish_gocred_using_subcommand audit" -l file -d 'Read this log instead of the one the policy names' -r -F
complete -c gocred -n "__fish_gocred_using_subcommand audit" -l json -d 'Print the matching log lines as they are (JSON lines, schema in gocred-audit(1))'
complete -c gocred -n "__fish_gocred_using_subcommand audit" -s q -l quiet -d 'Print no notes (why a host got nothing, what was left out): only errors. Same as GOCRED_QUIET=1, which `gocred exec` then hands to its command'
complete -c gocred -n "__fish_gocred_using_subcommand audit" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c gocred -n "__fish_gocred_using_subcommand completions" -s q -l quiet -d 'Print no notes (why a host got nothing, what was left out): only errors. Same as GOCRED_QUIET=1, which `gocred exec` then hands to its command'
complete -c gocred -n "__fish_gocred_using_subcommand completions" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c gocred -n "__fish_gocred_using_subcommand help; and not __fish_seen_subcommand_from get store erase status config netrc exec login logout goauth setup import-netrc doctor agent ssh why audit completions help" -f -a "get" -d 'Git credential helper: answer a request on stdin (git-credential(1))'
complete -c gocred -n "__fish_gocred_using_subcommand help; and not __fish_seen_subcommand_from get store erase status config netrc exec login logout goauth setup import-netrc doctor agent ssh why audit completions help" -f -a "store" -d 'Git credential helper: keep the credential on stdin, where the matching rule says'
complete -c gocred -n "__fish_gocred_using_subcommand help; and not __fish_seen_subcommand_from get store erase status config netrc exec login logout goauth setup import-netrc doctor agent ssh why audit completions help" -f -a "erase" -d 'Git credential helper: forget the credential on stdin'
complete -c gocred -n "__fish_gocred_using_subcommand help; and not __fish_seen_subcommand_from get store erase status config netrc exec login logout goauth setup import-netrc doctor agent ssh why audit completions help" -f -a "status" -d 'Show every rule, its sources and what is stored (never a secret)'
complete -c gocred -n "__fish_gocred_using_subcommand help; and not __fish_seen_subcommand_from get store erase status config netrc exec login logout goauth setup import-netrc doctor agent ssh why audit completions help" -f -a "config" -d 'Inspect the policy file'
complete -c gocred -n "__fish_gocred_using_subcommand help; and not __fish_seen_subcommand_from get store erase status config netrc exec login logout goauth setup import-netrc doctor agent ssh why audit completions help" -f -a "netrc" -d 'Print a netrc for Go with the credential of every host policy allows (never for others)'
complete -c gocred -n "__fish_gocred_using_subcommand help; and not __fish_seen_subcommand_from get store erase status config netrc exec login logout goauth setup import-netrc doctor agent ssh why audit completions help" -f -a "exec" -d 'Run a command with a private netrc and gocred as git\'s helper, for as long as it runs'
complete -c gocred -n "__fish_gocred_using_subcommand help; and not __fish_seen_subcommand_from get store erase status config netrc exec login logout goauth setup import-netrc doctor agent ssh why audit completions help" -f -a "login" -d 'Log in to a host: a personal access token (--with-token) or the OAuth device flow'
complete -c gocred -n "__fish_gocred_using_subcommand help; and not __fish_seen_subcommand_from get store erase status config netrc exec login logout goauth setup import-netrc doctor agent ssh why audit completions help" -f -a "logout" -d 'Forget what is stored for a host (OAuth tokens are revoked first)'
complete -c gocred -n "__fish_gocred_using_subcommand help; and not __fish_seen_subcommand_from get store erase status config netrc exec login logout goauth setup import-netrc doctor agent ssh why audit completions help" -f -a "goauth" -d 'GOAUTH command for the go command: GOAUTH=\'gocred goauth\' (see `go help goauth`)'
complete -c gocred -n "__fish_gocred_using_subcommand help; and not __fish_seen_subcommand_from get store erase status config netrc exec login logout goauth setup import-netrc doctor agent ssh why audit completions help" -f -a "setup" -d 'Configure git or go for the hosts policy names'
complete -c gocred -n "__fish_gocred_using_subcommand help; and not __fish_seen_subcommand_from get store erase status config netrc exec login logout goauth setup import-netrc doctor agent ssh why audit completions help" -f -a "import-netrc" -d 'Move the credentials of a plaintext netrc into the stores policy names'
complete -c gocred -n "__fish_gocred_using_subcommand help; and not __fish_seen_subcommand_from get store erase status config netrc exec login logout goauth setup import-netrc doctor agent ssh why audit completions help" -f -a "doctor" -d 'Check network, Go routing and auth for a private module, with the fix for each failure'
complete -c gocred -n "__fish_gocred_using_subcommand help; and not __fish_seen_subcommand_from get store erase status config netrc exec login logout goauth setup import-netrc doctor agent ssh why audit completions help" -f -a "agent" -d 'Serve credentials to SSH hosts and dev containers, scoped by policy and --allow'
complete -c gocred -n "__fish_gocred_using_subcommand help; and not __fish_seen_subcommand_from get store erase status config netrc exec login logout goauth setup import-netrc doctor agent ssh why audit completions help" -f -a "ssh" -d 'ssh to HOST with the agent\'s socket forwarded and GOCRED_AGENT set there'
complete -c gocred -n "__fish_gocred_using_subcommand help; and not __fish_seen_subcommand_from get store erase status config netrc exec login logout goauth setup import-netrc doctor agent ssh why audit completions help" -f -a "why" -d 'Explain what gocred, git and go do for a URL, module path or git remote, and why'
complete -c gocred -n "__fish_gocred_using_subcommand help; and not __fish_seen_subcommand_from get store erase status config netrc exec login logout goauth setup import-netrc doctor agent ssh why audit completions help" -f -a "audit" -d 'Print the audit log, filtered by host or time (never a secret)'
complete -c gocred -n "__fish_gocred_using_subcommand help; and not __fish_seen_subcommand_from get store erase status config netrc exec login logout goauth setup import-netrc doctor agent ssh why audit completions help" -f -a "completions" -d 'Print the completion script for a shell (bash, zsh, fish, elvish, powershell)'
complete -c gocred -n "__fish_gocred_using_subcommand help; and not __fish_seen_subcommand_from get store erase status config netrc exec login logout goauth setup import-netrc doctor agent ssh why audit completions help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c gocred -n "__fish_gocred_using_subcommand help; and __fish_seen_subcommand_from config" -f -a "check" -d 'Validate the policy file; report every problem with file, line and column'
complete -c gocred -n "__fish_gocred_using_subcommand help; and __fish_seen_subcommand_from config" -f -a "path" -d 'Print where the policy file is read from'
complete -c gocred -n "__fish_gocred_using_subcommand help; and __fish_seen_subcommand_from config" -f -a "init" -d 'Write a starting policy for HOST, every key explained in a comment'
complete -c gocred -n "__fish_gocred_using_subcommand help; and __fish_seen_subcommand_from setup" -f -a "git" -d 'Make git ask gocred, and only gocred, for the hosts policy names'
complete -c gocred -n "__fish_gocred_using_subcommand help; and __fish_seen_subcommand_from setup" -f -a "go" -d 'Keep the policy\'s hosts private in Go (GOPRIVATE, GONOSUMDB, GONOPROXY)'
complete -c gocred -n "__fish_gocred_using_subcommand help; and __fish_seen_subcommand_from setup" -f -a "ci" -d 'In a CI job: git asks gocred for the CI server, which serves the job\'s own token'

# Added by gocred: hosts of the policy, files for import-netrc, a command after `exec --`.
function __fish_gocred_hosts
    gocred __complete hosts 2>/dev/null
end
function __fish_gocred_after_dashdash
    contains -- -- (commandline -opc)
end
function __fish_gocred_exec_command
    set -l tokens (commandline -opc)
    set -l at (contains -i -- -- $tokens)
    set -l rest (string escape -- $tokens[(math $at + 1)..-1]) (commandline -ct)
    if test (count $tokens) -eq $at
        complete -C (commandline -ct)
    else
        complete -C (string join -- ' ' $rest)
    end
end
complete -c gocred -n "__fish_gocred_using_subcommand login; or __fish_gocred_using_subcommand logout; or __fish_gocred_using_subcommand doctor" -f -a "(__fish_gocred_hosts)"
complete -c gocred -n "__fish_gocred_using_subcommand netrc; or __fish_gocred_using_subcommand exec; and not __fish_gocred_after_dashdash" -l host -x -a "(__fish_gocred_hosts)"
complete -c gocred -n "__fish_gocred_using_subcommand import-netrc" -F
complete -c gocred -n "__fish_gocred_using_subcommand exec; and __fish_gocred_after_dashdash" -f -a "(__fish_gocred_exec_command)"
