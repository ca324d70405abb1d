//! The completion scripts complete what a person types after a subcommand, driven in the real
//! shells: bash with Debian's bash-completion loaded, and fish. Hosts come from the policy
//! (through the hidden `gocred __complete hosts`), files after `import-netrc`, and a command, then
//! that command's own completions, after `exec --`.

use crate::common::{GOCRED, TestEnv};

const POLICY: &str = r#"
[[rule]]
url = "https://gitlab.corp.example"
sources = ["keychain"]

[[rule]]
url = "https://ghe.corp.example:8443/team/"
sources = ["keychain"]

[[rule]]
url = "https://ghe.corp.example:8443"
sources = ["keychain"]

[[rule]]
url = "https://*.mirror.example"
sources = ["keychain"]
"#;

const HOSTS: &[&str] = &["gitlab.corp.example", "ghe.corp.example:8443"];

/// A test env with the policy above, `gocred` on PATH, and `shell`'s script from the binary
/// (zsh's as `zfunc/_gocred`, the name compinit looks for).
fn env_with_script(shell: &str) -> (TestEnv, std::path::PathBuf) {
    let mut env = TestEnv::new();
    env.policy(POLICY);
    let bin = env.root().join("gocred-bin");
    std::fs::create_dir_all(&bin).unwrap();
    std::os::unix::fs::symlink(GOCRED, bin.join("gocred")).unwrap();
    env.prepend_path(bin);
    let out = env.gocred(&["completions", shell]).success();
    let script = if shell == "zsh" {
        std::fs::create_dir_all(env.root().join("zfunc")).unwrap();
        env.write_file("zfunc/_gocred", &out.stdout)
    } else {
        env.write_file(&format!("completion.{shell}"), &out.stdout)
    };
    std::fs::write(env.root().join("netrc-a"), "").unwrap();
    std::fs::write(env.root().join("netrc-b"), "").unwrap();
    (env, script)
}

/// Each line: a command line, a TAB, and its candidates as the shell printed them.
fn candidates(stdout: &str) -> Vec<(String, Vec<String>)> {
    stdout
        .lines()
        .filter_map(|l| l.split_once('\t'))
        .map(|(line, words)| {
            let mut words: Vec<String> = words.split_whitespace().map(str::to_owned).collect();
            words.sort();
            (line.to_owned(), words)
        })
        .collect()
}

fn sorted(words: &[&str]) -> Vec<String> {
    let mut w: Vec<String> = words.iter().map(|s| (*s).to_owned()).collect();
    w.sort();
    w
}

/// What the cases must offer, by the command line (the last word is the one completed).
fn check(got: &[(String, Vec<String>)], shell: &str, env: &TestEnv) {
    let find = |line: &str| {
        &got.iter()
            .find(|(l, _)| l == line)
            .unwrap_or_else(|| panic!("{shell}: no completion of {line:?} in {got:?}"))
            .1
    };
    for line in [
        "gocred login ",
        "gocred logout ",
        "gocred doctor ",
        "gocred netrc --host ",
        "gocred exec --host ",
    ] {
        assert_eq!(*find(line), sorted(HOSTS), "{shell}: {line:?}");
    }
    assert_eq!(
        *find("gocred logout gi"),
        sorted(&["gitlab.corp.example"]),
        "{shell}"
    );
    let root = env.root().display().to_string();
    // bash and fish show the whole path, zsh the file name.
    let files: Vec<String> = find(&format!("gocred import-netrc {root}/netrc-"))
        .iter()
        .map(|f| f.rsplit('/').next().unwrap_or_default().to_owned())
        .collect();
    assert_eq!(files, sorted(&["netrc-a", "netrc-b"]), "{shell}");
    // A command after `exec --`, then that command's own completions.
    assert!(
        find("gocred exec -- gi").contains(&"git".to_owned()),
        "{shell}"
    );
    assert!(
        find("gocred exec -- git chec").contains(&"checkout".to_owned()),
        "{shell}: {:?}",
        find("gocred exec -- git chec")
    );
    // Subcommands still come from clap's part of the script, without the hidden one.
    assert_eq!(*find("gocred log"), sorted(&["login", "logout"]), "{shell}");
    assert!(
        !find("gocred ").iter().any(|w| w.contains("__complete")),
        "{shell}"
    );
}

const LINES: &[&str] = &[
    "gocred login ",
    "gocred logout ",
    "gocred logout gi",
    "gocred doctor ",
    "gocred netrc --host ",
    "gocred exec --host ",
    "gocred import-netrc ROOT/netrc-",
    "gocred exec -- gi",
    "gocred exec -- git chec",
    "gocred log",
    "gocred ",
];

#[test]
fn completions_bash_offer_policy_hosts_files_and_commands() {
    let (env, script) = env_with_script("bash");
    let root = env.root().display().to_string();
    // bash-completion's own loader, then the script, then the function `complete -p` names,
    // called as bash calls it (COMP_WORDS, COMP_CWORD, the command, the word, the one before).
    let mut body = format!(
        "source /usr/share/bash-completion/bash_completion\nsource {}\n\
         fn=$(complete -p gocred | sed -n 's/.*-F \\([^ ]*\\) .*/\\1/p')\n\
         c() {{\n  read -ra COMP_WORDS <<<\"$1\"\n  [[ $1 == *' ' ]] && COMP_WORDS+=('')\n  \
         COMP_CWORD=$((${{#COMP_WORDS[@]}} - 1)) COMP_LINE=$1 COMP_POINT=${{#1}} COMPREPLY=()\n  \
         \"$fn\" gocred \"${{COMP_WORDS[COMP_CWORD]}}\" \"${{COMP_WORDS[COMP_CWORD-1]}}\" 2>/dev/null\n  \
         printf '%s\\t%s\\n' \"$1\" \"${{COMPREPLY[*]}}\"\n}}\n",
        script.display()
    );
    for line in LINES {
        body += &format!("c '{}'\n", line.replace("ROOT", &root));
    }
    let out = env.command("bash").args(["--norc", "-c", &body]).run();
    out.assert_success();
    check(&candidates(&out.stdout), "bash", &env);
}

#[test]
fn completions_fish_offer_policy_hosts_files_and_commands() {
    let (env, script) = env_with_script("fish");
    let root = env.root().display().to_string();
    // Not --no-config: fish then does not load the completions of other commands (git's).
    let mut body = format!("source {}\n", script.display());
    for line in LINES {
        let line = line.replace("ROOT", &root);
        body += &format!(
            "printf '%s\\t%s\\n' '{line}' (string join ' ' (complete -C'{line}' | string replace -r '\\t.*' ''))\n"
        );
    }
    let out = env.command("fish").args(["-c", &body]).run();
    out.assert_success();
    check(&candidates(&out.stdout), "fish", &env);
}

/// An interactive `zsh -f` in a pseudo-terminal (zsh/zpty), with compinit and the script on
/// `fpath`: each argument is typed, then Tab and a key that prints `<END>`. compadd is wrapped to
/// print what it adds, so the candidates are what zsh's completion system itself offered.
const ZSH_DRIVER: &str = r#"
zmodload zsh/zpty
zpty z zsh -f -i
zpty -w z "PROMPT=''; RPROMPT=''; fpath=($ZFUNC \$fpath); autoload -Uz compinit; compinit -u -D"
zpty -w z 'compadd() { if [[ ${@[1,(i)(-|--)]} == *-(O|A|D)\ * ]]; then builtin compadd "$@"; return $?; fi; typeset -a __hits; builtin compadd -A __hits "$@"; local r=$?; (( $#__hits )) && print -r -- "<HI""T>${(j: :)__hits}</HI""T>"; builtin compadd "$@"; return r; }'
zpty -w z 'zstyle ":completion:*" menu no; LISTMAX=100000'
zpty -w z 'bindkey "^I" complete-word; comp-end() { print -r -- "<EN""D>"; }; zle -N comp-end; bindkey "^X" comp-end'
zpty -w z 'print -r -- "<REA""DY>"'
out=""
while zpty -r z chunk; do out+=$chunk; [[ $out == *"<READY>"* ]] && break; done
for line in "$@"; do
  zpty -w -n z "$line"$'\t'$'\x18'
  out=""
  while zpty -r z chunk; do out+=$chunk; [[ $out == *"<END>"* ]] && break; done
  hits=(${(f)"$(print -r -- $out | grep -ao '<HIT>.*</HIT>' | sed 's/<HIT>//; s/<\/HIT>//')"})
  print -r -- "$line"$'\t'"${(j: :)hits}"
  zpty -w -n z $'\x15'
done
zpty -d z
"#;

#[test]
fn completions_zsh_offer_policy_hosts_files_and_commands() {
    let (env, script) = env_with_script("zsh");
    let root = env.root().display().to_string();
    let lines: Vec<String> = LINES.iter().map(|l| l.replace("ROOT", &root)).collect();
    let out = env
        .command("zsh")
        .args(["-f", "-c", ZSH_DRIVER, "zsh"])
        .args(&lines)
        .env("ZFUNC", script.parent().unwrap())
        .timeout(std::time::Duration::from_secs(60))
        .run();
    out.assert_success();
    check(&candidates(&out.stdout), "zsh", &env);
}

#[test]
fn complete_hosts_lists_exact_hosts_once_and_nothing_for_a_broken_policy() {
    let env = TestEnv::new();
    env.policy(POLICY);
    let out = env.gocred(&["__complete", "hosts"]).success();
    assert_eq!(out.stdout, "gitlab.corp.example\nghe.corp.example:8443\n");
    assert_eq!(out.stderr, "");

    env.policy("[[rule]]\nurl = \"https://h.example\"\nbogus = 1\n");
    let out = env.gocred(&["__complete", "hosts"]).success();
    assert_eq!((out.stdout.as_str(), out.stderr.as_str()), ("", ""));
}
