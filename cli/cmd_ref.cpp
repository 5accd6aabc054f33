// kiln ref REF: the parsed, normalized reference, for scripts, and the one a pull
// fetches (the digest wins over a tag).
#include "cli/command.hpp"
#include "oci/reference.hpp"

namespace kiln::cli {

KILN_COMMAND(ref) {
  static std::string text, format = "text";
  auto* cmd =
      add_command(app, g, "ref", "Print a parsed and normalized image reference", []() -> Status {
        TRY_ASSIGN(auto r, oci::Reference::parse(text));
        nlohmann::json j = {
            {"reference", r.str()},
            {"registry", r.registry},
            {"repository", r.repository},
            {"name", r.name()},
            {"tag", r.tag.empty() ? nlohmann::json() : nlohmann::json(r.tag)},
            {"digest", r.digest ? nlohmann::json(r.digest->str()) : nlohmann::json()},
            {"familiar", r.familiar()},
            {"familiar_name", r.familiar_name()},
            {"pull", r.pull_ref()}};
        if (format == "json") {
          print_json(j);
        } else {
          for (const char* key :
               {"reference", "registry", "repository", "tag", "digest", "familiar", "pull"}) {
            const auto& v = j[key];
            print_line(std::string(key) + ": " + (v.is_null() ? "" : v.get<std::string>()));
          }
        }
        return {};
      });
  cmd->add_option("REF", text, "Image reference")->required();
  add_format_option(cmd, format);
}

}  // namespace kiln::cli
