fn main() -> std::process::ExitCode {
    gocred::cli::main()
}
