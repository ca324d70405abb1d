//! `git config credential.helper gocred` makes git run `git credential-gocred ACTION`, i.e. this
//! program (gitcredentials(7), "custom helpers"). It is gocred under the name git looks for.
fn main() -> std::process::ExitCode {
    gocred::cli::main()
}
