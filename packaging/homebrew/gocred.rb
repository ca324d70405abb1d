# Homebrew formula for gocred: builds the release tarball from source with cargo and installs
# both programs (gocred, and git-credential-gocred for `credential.helper = gocred`), the man
# pages and the bash, zsh and fish completions that are committed in the tarball.
#
# Before publishing it in a tap (for example Formula/gocred.rb in corp/homebrew-tools), set `url`
# to the release tarball and `sha256` to its checksum: `shasum -a 256 gocred-v0.1.0.tar.gz`.
# The zeros below are a placeholder; `brew install` refuses a formula whose checksum does not
# match. See packaging/README.md.
class Gocred < Formula
  desc "Git credential helper with a per-host credential policy"
  homepage "https://gitlab.corp.example/tools/gocred"
  url "https://gitlab.corp.example/tools/gocred/-/archive/v0.1.0/gocred-v0.1.0.tar.gz"
  sha256 "0000000000000000000000000000000000000000000000000000000000000000"
  license any_of: ["MIT", "Apache-2.0"]
  head "https://gitlab.corp.example/tools/gocred.git", branch: "main"

  depends_on "rust" => :build

  def install
    # A tarball has no .git, so `gocred --version` would say "commit unknown". Set
    # GOCRED_BUILD_COMMIT here to the release's commit if you want it shown.
    system "cargo", "install", *std_cargo_args
    man1.install Dir["man/*.1"]
    man5.install Dir["man/*.5"]
    bash_completion.install "completions/gocred.bash" => "gocred"
    zsh_completion.install "completions/_gocred"
    fish_completion.install "completions/gocred.fish"
  end

  test do
    assert_match "gocred #{version}", shell_output("#{bin}/gocred --version")
    # No policy file: every host is denied, so git's helper gets no answer and exit status 0.
    ENV["GOCRED_CONFIG"] = (testpath/"config.toml").to_s
    assert_empty pipe_output("#{bin}/git-credential-gocred get", "protocol=https\nhost=example.com\n\n", 0)
    assert_match "no config file yet", shell_output("#{bin}/gocred config check")
  end
end
