#include "cli/inspect_view.hpp"

#include "cli/command.hpp"
#include "cli/format.hpp"
#include "oci/reference.hpp"

namespace kiln::cli {

nlohmann::json inspect_json(const oci::LocalImage& image) {
  const auto& cfg = image.config;
  const auto platform = cfg.platform();
  nlohmann::json layers = nlohmann::json::array(), layers_data = nlohmann::json::array();
  for (auto& l : image.manifest.layers()) {
    layers.push_back(l.digest.str());
    nlohmann::json entry = {
        {"MIMEType", l.media_type}, {"Digest", l.digest.str()}, {"Size", l.size}};
    if (!l.annotations.empty()) entry["Annotations"] = l.annotations;
    layers_data.push_back(std::move(entry));
  }
  nlohmann::json view = {
      {"Name", nullptr},
      {"Digest", image.top.digest.str()},
      {"ManifestDigest", image.manifest.digest().str()},
      {"MediaType", image.manifest.media_type()},
      {"ConfigDigest", image.manifest.config().digest.str()},
      {"Created", cfg.created()},
      {"Author", cfg.author()},
      {"Architecture", platform.architecture},
      {"Os", platform.os},
      {"Layers", layers},
      {"LayersData", layers_data},
      {"Env", cfg.env()},
      {"Entrypoint", cfg.entrypoint()},
      {"Cmd", cfg.cmd()},
      {"User", cfg.user()},
      {"WorkingDir", cfg.working_dir()},
      {"ExposedPorts", cfg.exposed_ports()},
      {"Volumes", cfg.volumes()},
      {"StopSignal", cfg.stop_signal()},
      {"Labels", cfg.labels()},
  };
  if (!platform.variant.empty()) view["Variant"] = platform.variant;
  if (!image.name.empty()) {
    view["Name"] = image.name;
    if (auto ref = oci::Reference::parse(image.name)) {
      view["Name"] = ref->name();
      view["Tag"] = ref->tag;
    }
  }
  return view;
}

void print_inspect_text(const nlohmann::json& v) {
  auto str = [](const nlohmann::json& j) { return j.is_string() ? j.get<std::string>() : ""; };
  auto list = [](const nlohmann::json& j) {
    std::string out;
    for (auto& e : j)
      out += (out.empty() ? "" : " ") + e.get<std::string>();
    return out;
  };
  std::vector<std::vector<std::string>> rows = {
      {"Name:", str(v["Name"]) + (v.contains("Tag") ? ":" + str(v["Tag"]) : "")},
      {"Digest:", str(v["Digest"])},
      {"Config:", str(v["ConfigDigest"])},
      {"Created:", str(v["Created"])},
      {"Platform:", str(v["Os"]) + "/" + str(v["Architecture"]) +
                        (v.contains("Variant") ? "/" + str(v["Variant"]) : "")},
      {"Entrypoint:", list(v["Entrypoint"])},
      {"Cmd:", list(v["Cmd"])},
      {"User:", str(v["User"])},
      {"WorkingDir:", str(v["WorkingDir"])},
  };
  // Runtime fields the image does not set are left out of the text view.
  std::erase_if(rows, [](const std::vector<std::string>& r) { return r[1].empty(); });
  for (auto& e : v["Env"])
    rows.push_back({"Env:", e.get<std::string>()});
  for (auto& [k, val] : v["Labels"].items())
    rows.push_back({"Label:", k + "=" + str(val)});
  print_table(rows);
  print_line("Layers:");
  std::vector<std::vector<std::string>> layers;
  for (auto& l : v["LayersData"])
    layers.push_back(
        {"  " + str(l["Digest"]), human_size(l["Size"].get<int64_t>()), str(l["MIMEType"])});
  print_table(layers);
}

}  // namespace kiln::cli
