#include "cli/command.hpp"

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
  std::cout << printable(line, true) << '\n';
}

}  // namespace kiln::cli
