// kiln context ls CONTEXT: the paths a build would see after ignore rules.
#include <sys/stat.h>

#include "base/log.hpp"
#include "cli/command.hpp"
#include "parser/context_walk.hpp"

namespace {

namespace fs = std::filesystem;

// -f as given, else CONTEXT/Containerfile, else CONTEXT/Dockerfile (as buildah).
fs::path containerfile_for(const fs::path& context, const std::string& file) {
  if (!file.empty()) return file;
  fs::path c = context / "Containerfile";
  struct stat st;
  if (::stat(c.c_str(), &st) == 0) return c;
  return context / "Dockerfile";
}

}  // namespace

KILN_COMMAND(context) {
  static std::string dir, file, format = "text";
  auto* group = app.add_subcommand("context", "Inspect a build context");
  group->require_subcommand(1);
  auto* ls = kiln::cli::add_command(
      *group, g, "ls", "List the paths a build would see after .containerignore/.dockerignore",
      []() -> kiln::Status {
        namespace kp = kiln::parser;
        std::string used;
        TRY_ASSIGN(kp::IgnoreMatcher ignore,
                   kp::load_ignore_file(dir, containerfile_for(dir, file), &used));
        if (!used.empty()) kiln::log_info("using ignore file " + used);
        TRY_ASSIGN(std::vector<kp::ContextEntry> entries, kp::walk_context(dir, ignore));
        if (format == "json") {
          nlohmann::json j = nlohmann::json::object();
          j["context"] = dir;
          j["ignore_file"] = used.empty() ? nlohmann::json(nullptr) : nlohmann::json(used);
          nlohmann::json list = nlohmann::json::array();
          for (const kp::ContextEntry& e : entries)
            list.push_back({{"path", e.path},
                            {"type", kp::entry_type_name(e.type)},
                            {"size", e.size},
                            {"mode", e.mode & 07777}});
          j["entries"] = std::move(list);
          kiln::cli::print_json(j);
          return {};
        }
        for (const kp::ContextEntry& e : entries)
          kiln::cli::print_line(e.type == kp::ContextEntry::Type::dir ? e.path + "/" : e.path);
        return {};
      });
  ls->add_option("CONTEXT", dir, "Build context directory")->required();
  ls->add_option("-f,--file", file,
                 "Containerfile (its <file>.containerignore/.dockerignore wins)");
  kiln::cli::add_format_option(ls, format);
}
