// kiln history IMAGE: the config's history, each entry with its layer.
#include "cli/command.hpp"
#include "cli/format.hpp"

namespace kiln::cli {

KILN_COMMAND(history) {
  static std::string image, format = "text";
  auto* cmd = add_command(app, g, "history", "Show the history of an image", [&g]() -> Status {
    TRY_ASSIGN(auto store, open_store(g));
    TRY_ASSIGN(auto img, store.load_image(image));
    const auto& layers = img.manifest.layers();
    size_t next_layer = 0;
    nlohmann::json out = nlohmann::json::array();
    for (auto& h : img.config.history()) {
      nlohmann::json e = {{"created", h.created}, {"created_by", h.created_by},
                          {"comment", h.comment}, {"empty_layer", h.empty_layer},
                          {"layer", nullptr},     {"size", 0}};
      if (!h.empty_layer && next_layer < layers.size()) {
        e["layer"] = layers[next_layer].digest.str();
        e["size"] = layers[next_layer].size;
        ++next_layer;
      }
      out.push_back(std::move(e));
    }
    // Newest first, as docker and podman list it.
    std::reverse(out.begin(), out.end());
    if (format == "json") {
      print_json(out);
      return {};
    }
    std::vector<std::vector<std::string>> table = {
        {"LAYER", "CREATED", "CREATED BY", "SIZE", "COMMENT"}};
    for (auto& e : out) {
      std::string by = e["created_by"].get<std::string>();
      if (by.size() > 60) by = by.substr(0, 57) + "...";
      table.push_back(
          {e["layer"].is_null() ? "<missing>" : e["layer"].get<std::string>().substr(7, 12),
           e["created"].get<std::string>(), by, human_size(e["size"].get<int64_t>()),
           e["comment"].get<std::string>()});
    }
    print_table(table);
    return {};
  });
  cmd->add_option("IMAGE", image, "Image name or ID")->required();
  add_format_option(cmd, format);
}

}  // namespace kiln::cli
