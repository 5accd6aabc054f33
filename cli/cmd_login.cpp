// kiln login REGISTRY [-u USER] [--password-stdin] and kiln logout REGISTRY.
// The credentials are checked against the registry before they are stored;
// the password never travels through argv.
#include <termios.h>
#include <unistd.h>

#include <iostream>
#include <iterator>

#include "cli/command.hpp"
#include "registry/client.hpp"
#include "registry/keychain.hpp"

namespace {

// "https://reg.example:5000/v2/" or "reg.example:5000" → "reg.example:5000".
std::string registry_host(const std::string& arg) {
  std::string key = kiln::registry::normalize_auth_key(arg);
  return key.substr(0, key.find('/'));
}

std::string prompt(const char* what, bool echo) {
  std::cerr << what << std::flush;
  termios old{};
  bool tty = ::tcgetattr(0, &old) == 0;
  if (tty && !echo) {
    termios quiet = old;
    quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO);
    ::tcsetattr(0, TCSANOW, &quiet);
  }
  std::string line;
  std::getline(std::cin, line);
  if (tty && !echo) {
    ::tcsetattr(0, TCSANOW, &old);
    std::cerr << '\n';
  }
  return line;
}

}  // namespace

KILN_COMMAND(login) {
  static std::string reg, user;
  static bool password_stdin = false;
  auto* cmd =
      kiln::cli::add_command(app, g, "login", "Log in to a registry", [&g]() -> kiln::Status {
        using namespace kiln;
        std::string host = registry_host(reg);
        if (host.empty()) return fail("login: no registry given");
        registry::Credentials c;
        c.username = user;
        bool tty = ::isatty(0);
        if (password_stdin) {
          if (c.username.empty()) return fail("login ", host, ": --password-stdin needs -u USER");
          c.password.assign(std::istreambuf_iterator<char>(std::cin), {});
          while (!c.password.empty() && (c.password.back() == '\n' || c.password.back() == '\r'))
            c.password.pop_back();
        } else {
          if (!tty)
            return fail("login ", host, ": no terminal; pass the password with --password-stdin");
          if (c.username.empty()) c.username = prompt("Username: ", true);
          c.password = prompt("Password: ", false);
        }
        if (c.username.empty() || c.password.empty())
          return fail("login ", host, ": user name and password are required");
        auto opts = registry::ClientOptions::from_flags(g.tls_verify, g.cert_dir, g.authfile);
        opts.credentials = c;
        auto client = registry::Client::create(host, opts);
        TRY_CTX(client->check_credentials(), "login to " + host);
        auto file = registry::KeychainPaths::from_env(g.authfile).login_file();
        TRY(registry::store_credentials(file, host, c));
        cli::print_line("Login Succeeded");
        return {};
      });
  cmd->add_option("REGISTRY", reg, "Registry host[:port]")->required();
  cmd->add_option("-u,--username", user, "User name");
  cmd->add_flag("--password-stdin", password_stdin, "Read the password from stdin");
}

KILN_COMMAND(logout) {
  static std::string reg;
  auto* cmd = kiln::cli::add_command(
      app, g, "logout", "Remove stored registry credentials", [&g]() -> kiln::Status {
        using namespace kiln;
        std::string host = registry_host(reg);
        auto file = registry::KeychainPaths::from_env(g.authfile).login_file();
        TRY_ASSIGN(bool removed, registry::remove_credentials(file, host));
        if (!removed) return fail("logout: not logged in to ", host, " (", file.string(), ")");
        cli::print_line("Removed login credentials for " + host);
        return {};
      });
  cmd->add_option("REGISTRY", reg, "Registry host[:port]")->required();
}
