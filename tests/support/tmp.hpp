// Test helpers: scratch directories and running commands (kiln and peers).
#pragma once

#include <filesystem>
#include <string>
#include <vector>

namespace kiln::test {

// A fresh directory under $TMPDIR, removed when the object dies.
class Scratch {
 public:
  Scratch();
  ~Scratch();
  Scratch(const Scratch&) = delete;
  const std::filesystem::path& path() const { return path_; }
  std::filesystem::path operator/(const std::string& s) const { return path_ / s; }

 private:
  std::filesystem::path path_;
};

struct RunResult {
  int status = -1;  // exit code, or 128+signal
  std::string out;
  std::string err;
};

// Runs argv (no shell), capturing stdout and stderr. `input` feeds stdin.
RunResult run(const std::vector<std::string>& argv, const std::string& input = "");
// As run(), with stdout a terminal: a pseudo-terminal in raw mode, so what the
// command writes arrives unchanged (no "\n" turned into "\r\n").
RunResult run_on_terminal(const std::vector<std::string>& argv);
// Runs a shell command line (for pipelines in tests).
RunResult sh(const std::string& script);

// Path of the kiln binary under test.
std::string kiln_bin();
// True when a peer tool is on PATH; tests that need it skip otherwise.
bool have_tool(const std::string& name);

void write_text(const std::filesystem::path& p, const std::string& content);
std::string read_text(const std::filesystem::path& p);

}  // namespace kiln::test
