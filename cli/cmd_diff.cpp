// kiln diff IMAGE IMAGE: files added, removed or changed, and config changes.
#include <set>

#include "base/files.hpp"
#include "cli/command.hpp"
#include "layers/tree_diff.hpp"
#include "layers/unpack.hpp"
#include "oci/json.hpp"
#include "oci/store.hpp"

namespace {

// The config fields worth reporting: platform and the runtime defaults.
nlohmann::json config_changes(const nlohmann::json& a, const nlohmann::json& b) {
  nlohmann::json out = nlohmann::json::array();
  auto compare = [&](const std::string& field, const nlohmann::json& x, const nlohmann::json& y) {
    if (x != y) out.push_back({{"field", field}, {"old", x}, {"new", y}});
  };
  for (const char* k : {"os", "architecture", "variant"})
    compare(k, a.value(k, nlohmann::json()), b.value(k, nlohmann::json()));
  nlohmann::json ca =
      a.contains("config") && a["config"].is_object() ? a["config"] : nlohmann::json::object();
  nlohmann::json cb =
      b.contains("config") && b["config"].is_object() ? b["config"] : nlohmann::json::object();
  std::set<std::string> keys;
  for (auto& [k, v] : ca.items())
    keys.insert(k);
  for (auto& [k, v] : cb.items())
    keys.insert(k);
  for (auto& k : keys)
    compare("config." + k, ca.value(k, nlohmann::json()), cb.value(k, nlohmann::json()));
  return out;
}

}  // namespace

KILN_COMMAND(diff) {
  static std::string a, b, format = "text";
  auto* cmd = kiln::cli::add_command(
      app, g, "diff", "Show how two images differ (files and config)", [&g]() -> kiln::Status {
        using namespace kiln;
        TRY_ASSIGN(auto store, oci::Store::open(g.root.empty() ? oci::Store::default_root()
                                                               : std::filesystem::path(g.root)));
        TRY_ASSIGN(auto ia, store.load_image(a));
        TRY_ASSIGN(auto ib, store.load_image(b));
        TRY_ASSIGN(TempDir work, TempDir::create(store.tmp_dir(), "diff-"));
        TRY(layers::unpack_image(store, ia, work.path() / "a"));
        TRY(layers::unpack_image(store, ib, work.path() / "b"));
        TRY_ASSIGN(auto changes, layers::diff_trees(work.path() / "a", work.path() / "b"));
        auto config = config_changes(ia.config.json(), ib.config.json());
        if (format == "json") {
          nlohmann::json files = nlohmann::json::array();
          for (auto& c : changes) {
            const char* kind = c.kind == 'A' ? "added" : c.kind == 'D' ? "removed" : "modified";
            nlohmann::json j = {{"path", "/" + c.path}, {"change", kind}};
            if (c.kind == 'M') j["what"] = layers::diff_bit_names(c.bits);
            files.push_back(std::move(j));
          }
          cli::print_json({{"files", files}, {"config", config}});
          return {};
        }
        for (auto& c : changes) {
          std::string line = std::string(1, c.kind) + " /" + c.path;
          if (c.kind == 'M') {
            std::string what;
            for (auto& n : layers::diff_bit_names(c.bits))
              what += (what.empty() ? "" : ", ") + n;
            line += " (" + what + ")";
          }
          cli::print_line(line);
        }
        for (auto& c : config)
          cli::print_line("C " + c["field"].get<std::string>() + ": " + oci::dump_json(c["old"]) +
                          " -> " + oci::dump_json(c["new"]));
        return {};
      });
  cmd->add_option("IMAGE1", a, "Old image")->required();
  cmd->add_option("IMAGE2", b, "New image")->required();
  kiln::cli::add_format_option(cmd, format);
}
