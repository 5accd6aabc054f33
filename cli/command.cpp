#include "cli/command.hpp"

#include <unistd.h>

#include <cstdio>
#include <iostream>

#include "base/printable.hpp"
#include "oci/json.hpp"

namespace kiln::cli {

std::vector<Setup>& registry() {
  static std::vector<Setup> r;
  return r;
}

CLI::App* add_command(CLI::App& app, Globals& g, const std::string& name, const std::string& help,
                      std::function<Status()> run) {
  CLI::App* cmd = app.add_subcommand(name, help);
  cmd->callback([&g, run = std::move(run)] { g.action = run; });
  return cmd;
}

Result<oci::Store> open_store(const Globals& g) {
  return oci::Store::open(g.root.empty() ? oci::Store::default_root()
                                         : std::filesystem::path(g.root));
}

void add_format_option(CLI::App* cmd, std::string& format) {
  cmd->add_option("--format", format, "Output format")
      ->check(CLI::IsMember({"text", "json"}))
      ->default_str("text");
}

void print_json(const nlohmann::json& j) {
  // nlohmann escapes C0 controls in strings but not DEL or C1 ones.
  std::cout << printable(oci::dump_json(j, 2), true) << '\n';
}

void print_line(std::string_view line) {
  std::cout << printable(line) << '\n';
}

void print_text(std::string_view text) {
  std::cout << printable(text, true) << '\n';
}

void print_document(std::string_view bytes) {
  if (::isatty(STDOUT_FILENO)) {
    // A registry's document may hold DEL, C1 controls (raw or as UTF-8) and
    // carriage returns between its tokens, all of which a terminal acts on.
    std::cout << printable(bytes, true);
  } else {
    std::cout.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  }
  std::cout.flush();
}

}  // namespace kiln::cli
