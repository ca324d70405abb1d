//! `gocred completions SHELL`: the shell's completion script, generated from the clap definition
//! in `cli/mod.rs`, so it always knows every subcommand. The scripts the packages install are the
//! same bytes, committed under `completions/` (a test fails when they are stale).
//!
//! clap_complete's scripts know the subcommands and options. What they cannot know, the policy's
//! hosts, they ask the hidden `gocred __complete hosts` for, in a few lines added here for bash,
//! zsh and fish: hosts after `login`, `logout`, `doctor` and `--host`, files after
//! `import-netrc`, and a command (then its own completions) after `exec --`.

use super::context::Context;
use super::{Cli, CommandError};
use crate::policy::HostPattern;
use clap::CommandFactory;
use clap_complete::Shell;
use std::io::Write;

#[derive(Debug, clap::Args)]
#[command(after_long_help = "\
Examples:
  gocred completions bash > ~/.local/share/bash-completion/completions/gocred
  gocred completions zsh > ~/.zfunc/_gocred    # with fpath+=(~/.zfunc) before compinit
  gocred completions fish > ~/.config/fish/completions/gocred.fish

The Debian and RPM packages and the Homebrew formula install these scripts already.")]
pub struct CompletionsArgs {
    /// The shell to print the script for
    #[arg(value_enum)]
    pub shell: Shell,
}

/// `gocred __complete ...`: the candidates a completion script asks for, one a line.
#[derive(Debug, clap::Subcommand)]
pub enum CompleteCommand {
    /// Every exact host of the policy (`host`, or `host:port` off the default port), in the
    /// policy's order; nothing when it cannot be read
    Hosts,
}

/// The completion script for `shell`, for the program name `gocred`.
pub fn script(shell: Shell) -> Vec<u8> {
    let mut out = Vec::new();
    clap_complete::generate(shell, &mut Cli::command(), "gocred", &mut out);
    let text = without_hidden(
        shell,
        &String::from_utf8(out).expect("clap_complete writes UTF-8"),
    );
    match shell {
        Shell::Bash => text + BASH,
        Shell::Fish => text + FISH,
        Shell::Zsh => zsh(&text),
        _ => text,
    }
    .into_bytes()
}

/// clap_complete offers the hidden `__complete` among the subcommands (in `help`'s list too):
/// take it out of the lists a person sees. Its own branches stay, unreachable.
fn without_hidden(shell: Shell, text: &str) -> String {
    const NAME: &str = "__complete";
    let mut out = String::with_capacity(text.len());
    for line in text.split_inclusive('\n') {
        match shell {
            Shell::Bash if line.trim_start().starts_with("opts=\"") => {
                out += &line.replace(&format!(" {NAME} "), " ");
            }
            Shell::Zsh if line.starts_with(&format!("'{NAME}:")) => {}
            Shell::Fish if line.contains(&format!("-a \"{NAME}\"")) => {}
            // In a list of subcommands (`... completions __complete help`): out of the list.
            // Anything else that names it completes it or its arguments: dropped.
            Shell::Fish if line.contains(&format!(" {NAME} ")) => {
                out += &line.replace(&format!(" {NAME} "), " ");
            }
            Shell::Fish if line.contains(NAME) => {}
            _ => out += line,
        }
    }
    out
}

/// Registered after clap's `_gocred`, so bash calls this first; it hands everything it does not
/// complete itself to `_gocred`.
const BASH: &str = r#"
# Added by gocred: hosts of the policy, files for import-netrc, a command after `exec --`.
_gocred_dynamic() {
    local cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD-1]}
    local sub="" positionals=0 i word
    for ((i = 1; i < COMP_CWORD; i++)); do
        word=${COMP_WORDS[i]}
        if [[ $sub == exec && $word == -- ]]; then
            if declare -F _comp_command_offset >/dev/null; then
                _comp_command_offset $((i + 1))
            elif declare -F _command_offset >/dev/null; then
                _command_offset $((i + 1))
            elif ((i + 1 == COMP_CWORD)); then
                COMPREPLY=($(compgen -c -- "$cur"))
            else
                COMPREPLY=($(compgen -f -- "$cur"))
            fi
            return 0
        fi
        case $word in
        --provider | --client-id | --issuer | --scope | --user | --output | --host) ((i++)) ;;
        -*) ;;
        *) if [[ -z $sub ]]; then sub=$word; else ((positionals++)); fi ;;
        esac
    done
    if [[ $prev == --host && ($sub == netrc || $sub == exec) ]]; then
        COMPREPLY=($(compgen -W "$(gocred __complete hosts 2>/dev/null)" -- "$cur"))
        return 0
    fi
    if [[ $cur != -* && $positionals -eq 0 ]]; then
        case $prev in
        --provider | --client-id | --issuer | --scope | --user | --output) ;;
        *)
            case $sub in
            login | logout | doctor)
                COMPREPLY=($(compgen -W "$(gocred __complete hosts 2>/dev/null)" -- "$cur"))
                return 0
                ;;
            import-netrc)
                compopt -o filenames 2>/dev/null
                COMPREPLY=($(compgen -f -- "$cur"))
                return 0
                ;;
            esac
            ;;
        esac
    fi
    _gocred "$@"
}
complete -F _gocred_dynamic -o bashdefault -o default gocred
"#;

/// Added to clap's fish script: fish merges every `complete` line for a command.
const FISH: &str = r#"
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
"#;

/// The function zsh's script calls for a host, defined before clap's last lines.
const ZSH_HOSTS: &str = r#"# Added by gocred: the policy's hosts.
(( $+functions[_gocred_hosts] )) ||
_gocred_hosts() {
    local -a hosts
    hosts=(${(f)"$(gocred __complete hosts 2>/dev/null)"})
    compadd -a hosts
}

"#;

/// clap's zsh script with the policy's hosts for `login`, `logout`, `doctor` and `--host`, and a
/// command line after `exec --`.
fn zsh(text: &str) -> String {
    let mut out = String::new();
    let mut block = "";
    let (mut hosts, mut command) = (0, 0);
    for line in text.split_inclusive('\n') {
        if let Some(name) = line.strip_prefix('(').and_then(|l| l.strip_suffix(")\n")) {
            block = name;
        }
        let host_target =
            matches!(block, "login" | "logout" | "doctor") && line.starts_with("':target -- ");
        if (host_target || line.starts_with("'*--host=[")) && line.ends_with(":_default' \\\n") {
            out += line.trim_end_matches(":_default' \\\n");
            out += ":_gocred_hosts' \\\n";
            hosts += 1;
        } else if block == "exec" && line.starts_with("'*::command -- ") {
            out += "'*::command:_normal' \\\n";
            command += 1;
        } else {
            if line.starts_with("if [ \"$funcstack[1]\" = \"_gocred\" ]") {
                out += ZSH_HOSTS;
            }
            out += line;
        }
    }
    // login, logout, doctor, and --host of netrc, exec and audit (help's copies have no arguments).
    assert_eq!(
        (hosts, command),
        (6, 1),
        "clap_complete's zsh script changed shape"
    );
    assert!(
        out.contains("_gocred_hosts() {"),
        "no end of clap's zsh script"
    );
    out
}

pub fn cmd_completions(ctx: &mut Context, args: CompletionsArgs) -> Result<(), CommandError> {
    ctx.stdout
        .write_all(&script(args.shell))
        .and_then(|()| ctx.stdout.flush())
        .map_err(|e| CommandError::user(format!("cannot write to stdout: {e}")))
}

/// Prints the candidates, and nothing at all when the policy cannot be read: a completion
/// script shows no error, and `gocred config check` says what is wrong.
pub fn cmd_complete(ctx: &mut Context, command: CompleteCommand) -> Result<(), CommandError> {
    let CompleteCommand::Hosts = command;
    let Ok(policy) = ctx.load_policy() else {
        return Ok(());
    };
    let mut hosts: Vec<String> = Vec::new();
    for rule in &policy.rules {
        let HostPattern::Exact(host) = &rule.pattern.host else {
            continue;
        };
        let host = match rule.pattern.port {
            Some(port) => format!("{host}:{port}"),
            None => host.clone(),
        };
        if !hosts.contains(&host) {
            hosts.push(host);
        }
    }
    for host in hosts {
        writeln!(ctx.stdout, "{host}")
            .map_err(|e| CommandError::user(format!("cannot write to stdout: {e}")))?;
    }
    ctx.stdout
        .flush()
        .map_err(|e| CommandError::user(format!("cannot write to stdout: {e}")))
}
