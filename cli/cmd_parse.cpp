// kiln parse FILE: the stages and typed instructions of a Containerfile.
#include <cstdlib>
#include <iostream>
#include <iterator>

#include "base/files.hpp"
#include "base/log.hpp"
#include "cli/command.hpp"
#include "parser/report.hpp"

namespace {

kiln::Result<std::string> read_input(const std::string& file) {
  if (file != "-") return kiln::read_file(file);
  return std::string(std::istreambuf_iterator<char>(std::cin), std::istreambuf_iterator<char>());
}

// --build-arg K=V; a bare K takes its value from the environment (as docker
// build does) and is dropped when the variable is not set.
kiln::Status add_build_args(const std::vector<std::string>& args,
                            std::map<std::string, std::string>& out) {
  for (const std::string& a : args) {
    size_t eq = a.find('=');
    if (eq == 0) return kiln::fail("--build-arg ", a, ": missing name");
    if (eq != std::string::npos) {
      out[a.substr(0, eq)] = a.substr(eq + 1);
    } else if (const char* v = std::getenv(a.c_str())) {
      out[a] = v;
    }
  }
  return {};
}

}  // namespace

KILN_COMMAND(parse) {
  static std::string file, format = "text", target, platform;
  static std::vector<std::string> build_args;
  auto* cmd = kiln::cli::add_command(
      app, g, "parse", "Print the stages and instructions of a Containerfile",
      []() -> kiln::Status {
        namespace kp = kiln::parser;
        TRY_ASSIGN(std::string text, read_input(file));
        kp::BuildOptions opts;
        TRY(add_build_args(build_args, opts.build_args));
        opts.target = target;
        if (!platform.empty()) {
          TRY_CTX(kp::Platform::parse(platform), "--platform");
          opts.target_platform = *kp::Platform::parse(platform);
        }
        TRY_ASSIGN(kp::ParseResult r,
                   kp::parse_for_report(text, file == "-" ? "<stdin>" : file, opts));
        for (const std::string& w : r.warnings())
          kiln::log_warn(w);
        std::string out = format == "json" ? kp::render_json(r.cf, r.plan, r.expanded)
                                           : kp::render_text(r.cf, r.plan, r.expanded);
        if (!out.empty() && out.back() == '\n') out.pop_back();
        kiln::cli::print_text(out);
        return {};
      });
  cmd->add_option("FILE", file, "Containerfile to read (- for standard input)")->required();
  // One value per --build-arg, so a following FILE is not taken as a value.
  cmd->add_option("--build-arg", build_args, "Set a build argument K=V (repeatable)")
      ->allow_extra_args(false);
  cmd->add_option("--target", target, "Stage to build (default: the last one)");
  cmd->add_option("--platform", platform, "Target platform, e.g. linux/arm64 (default: this host)");
  kiln::cli::add_format_option(cmd, format);
}
