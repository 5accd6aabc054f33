// kiln: parse the command line, run one command, map its result to an exit code.
#include <cstdio>
#include <iostream>

#include "base/log.hpp"
#include "base/printable.hpp"
#include "cli/command.hpp"

int main(int argc, char** argv) {
  using namespace kiln;
  cli::Globals g;
  CLI::App app{"kiln: daemonless container image builder and OCI registry toolkit", "kiln"};
  app.require_subcommand(1);
  app.fallthrough();
  app.set_version_flag("--version", "kiln 0.1.0");
  app.add_option("--root", g.root, "Store directory (default $KILN_ROOT or per-user path)");
  app.add_option("--authfile", g.authfile, "Registry credentials file");
  app.add_option("--tls-verify", g.tls_verify, "Verify registry TLS certificates")
      ->default_str("true");
  app.add_option("--cert-dir", g.cert_dir, "Directory of registry CA and client certs");
  app.add_option("--log-level", g.log_level, "debug|info|warn|error")
      ->check(CLI::IsMember({"debug", "info", "warn", "error"}));
  app.add_flag("--debug", g.debug, "Log everything (never secrets)");
  for (auto setup : cli::registry())
    setup(app, g);

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    // CLI11 reports a mistyped command as "A subcommand is required": name it.
    auto rest = app.remaining();
    if (app.get_subcommands().empty() && !rest.empty()) {
      std::cerr << "kiln: unknown command '" << rest.front() << "' (see kiln --help)\n";
      return 2;
    }
    std::cerr << "kiln: " << e.what() << '\n';
    return 2;
  }

  LogLevel level = g.debug                  ? LogLevel::debug
                   : g.log_level == "debug" ? LogLevel::debug
                   : g.log_level == "info"  ? LogLevel::info
                   : g.log_level == "error" ? LogLevel::error
                                            : LogLevel::warn;
  set_log_level(level);
  set_log_sink([](LogLevel l, std::string_view line) {
    static const char* names[] = {"debug", "info", "warning", "error"};
    std::cerr << "kiln: " << names[static_cast<int>(l)] << ": " << printable(line) << '\n';
  });

  if (!g.action) return 2;
  Status st = g.action();
  std::cout.flush();
  if (!st) {
    // Registry replies reach error messages: no escape sequence gets through.
    std::cerr << "kiln: " << printable(st.error().what()) << '\n';
    return 1;
  }
  return 0;
}
