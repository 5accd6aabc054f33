// Command registration for the kiln binary.
//
// Each cli/cmd_*.cpp file registers its subcommands with KILN_COMMAND; main.cpp
// parses, runs the chosen command's action and turns its Status into the exit
// code: 0 success, 1 failure (one line on stderr), 2 usage error.
#pragma once

#include <CLI/CLI.hpp>
#include <functional>
#include <nlohmann/json.hpp>
#include <string>

#include "base/result.hpp"
#include "oci/store.hpp"

namespace kiln::cli {

struct Globals {
  std::string root;  // --root, else $KILN_ROOT, else the per-user default
  std::string authfile;
  bool tls_verify = true;
  std::string cert_dir;
  std::string log_level = "warn";
  bool debug = false;
  // Set by the chosen subcommand's callback; run by main after parsing.
  std::function<Status()> action;
};

using Setup = void (*)(CLI::App& app, Globals& g);
std::vector<Setup>& registry();

struct Registrar {
  explicit Registrar(Setup s) { registry().push_back(s); }
};

// A subcommand whose callback installs `run` as the action.
CLI::App* add_command(CLI::App& app, Globals& g, const std::string& name, const std::string& help,
                      std::function<Status()> run);

// `--format FMT` with the choice of plain text or json.
void add_format_option(CLI::App* cmd, std::string& format);

// The store a command works on: --root, else $KILN_ROOT, else the default.
Result<oci::Store> open_store(const Globals& g);

// Output helpers: stdout only, from cli/ only. What they print goes through
// printable(): an image's labels or a registry's tags cannot send escape
// sequences to the terminal (JSON stays valid JSON).
void print_json(const nlohmann::json& j);
// One line: a newline or tab in it is escaped too, so a file name or tag
// holding one cannot add a line of its own to the listing.
void print_line(std::string_view line);
// Text whose newlines and tabs are its layout (a rendered report).
void print_text(std::string_view text);
// A document exactly as it is, for scripts that hash it, when stdout is a
// pipe or a file; on a terminal its control characters are escaped.
void print_document(std::string_view bytes);

}  // namespace kiln::cli

#define KILN_COMMAND(name)                                                   \
  static void kiln_register_##name(CLI::App& app, ::kiln::cli::Globals& g);  \
  static ::kiln::cli::Registrar kiln_registrar_##name(kiln_register_##name); \
  static void kiln_register_##name(CLI::App& app, ::kiln::cli::Globals& g)
