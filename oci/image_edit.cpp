#include "oci/image_edit.hpp"

#include <algorithm>
#include <cctype>
#include <sstream>

#include "oci/json.hpp"
#include "oci/media_types.hpp"

namespace kiln::oci {

namespace {

std::string oci_type_for(const std::string& mt) {
  if (mt == media::kDockerLayerGzip) return std::string(media::kOciLayerGzip);
  if (mt == media::kDockerForeignLayerGzip) return std::string(media::kOciForeignLayerGzip);
  return mt;
}

// "80" → "80/tcp"; the protocol checked.
Result<std::string> port_key(const std::string& flag, const std::string& v) {
  std::string port = v, proto = "tcp";
  if (size_t slash = v.find('/'); slash != std::string::npos) {
    port = v.substr(0, slash);
    proto = v.substr(slash + 1);
  }
  bool digits =
      !port.empty() && port.size() <= 5 &&
      std::all_of(port.begin(), port.end(), [](unsigned char c) { return std::isdigit(c); });
  if (!digits || std::stoi(port) > 65535 || (proto != "tcp" && proto != "udp" && proto != "sctp"))
    return fail(flag, " \"", v, "\": expected PORT[/tcp|udp|sctp]");
  return port + "/" + proto;
}

Result<std::pair<std::string, std::string>> key_value(const std::string& flag,
                                                      const std::string& v) {
  size_t eq = v.find('=');
  if (eq == std::string::npos || eq == 0) return fail(flag, " \"", v, "\": expected KEY=VALUE");
  return std::pair{v.substr(0, eq), v.substr(eq + 1)};
}

}  // namespace

bool ConfigEdit::empty() const {
  return !entrypoint && !cmd && !user && !working_dir && !stop_signal && env.empty() &&
         labels.empty() && expose.empty() && unset_env.empty() && unset_labels.empty() &&
         unexpose.empty();
}

Result<std::vector<std::string>> parse_command_words(const std::string& flag,
                                                     const std::string& value) {
  std::vector<std::string> out;
  if (!value.empty() && value.front() == '[') {
    auto j = oci::parse_untrusted_json(value);
    bool ok =
        j.is_array() && std::all_of(j.begin(), j.end(), [](auto& e) { return e.is_string(); });
    if (!ok) return fail(flag, " \"", value, "\": not a JSON array of strings");
    for (auto& e : j)
      out.push_back(e.get<std::string>());
    return out;
  }
  std::istringstream in(value);
  for (std::string w; in >> w;)
    out.push_back(w);
  return out;
}

Result<ImageConfig> apply_config_edit(const ImageConfig& base, const ConfigEdit& edit) {
  nlohmann::json doc = base.json();
  if (!doc.contains("config") || !doc["config"].is_object())
    doc["config"] = nlohmann::json::object();
  auto& c = doc["config"];
  auto list = [&](const char* key) -> nlohmann::json& {
    if (!c.contains(key) || !c[key].is_array()) c[key] = nlohmann::json::array();
    return c[key];
  };
  auto object = [&](const char* key) -> nlohmann::json& {
    if (!c.contains(key) || !c[key].is_object()) c[key] = nlohmann::json::object();
    return c[key];
  };

  if (!edit.unset_env.empty() || !edit.env.empty()) {
    auto& env = list("Env");
    auto drop = [&](const std::string& k) {
      env.erase(std::remove_if(env.begin(), env.end(),
                               [&](const nlohmann::json& e) {
                                 return e.is_string() &&
                                        e.get<std::string>().substr(0, k.size() + 1) == k + "=";
                               }),
                env.end());
    };
    for (auto& k : edit.unset_env)
      drop(k);
    for (auto& kv : edit.env) {
      TRY_ASSIGN(auto p, key_value("--env", kv));
      bool replaced = false;
      for (auto& e : env)
        if (e.is_string() && e.get<std::string>().rfind(p.first + "=", 0) == 0) {
          e = kv;
          replaced = true;
        }
      if (!replaced) env.push_back(kv);
    }
  }
  if (!edit.unset_labels.empty() || !edit.labels.empty()) {
    auto& labels = object("Labels");
    for (auto& k : edit.unset_labels)
      labels.erase(k);
    for (auto& kv : edit.labels) {
      TRY_ASSIGN(auto p, key_value("--label", kv));
      labels[p.first] = p.second;
    }
  }
  if (!edit.unexpose.empty() || !edit.expose.empty()) {
    auto& ports = object("ExposedPorts");
    for (auto& p : edit.unexpose) {
      TRY_ASSIGN(auto key, port_key("--unexpose", p));
      ports.erase(key);
    }
    for (auto& p : edit.expose) {
      TRY_ASSIGN(auto key, port_key("--expose", p));
      ports[key] = nlohmann::json::object();
    }
  }
  // Cleared and emptied fields disappear, as docker writes them.
  auto words = [&](const char* key, const std::optional<std::vector<std::string>>& v) {
    if (!v) return;
    if (v->empty())
      c.erase(key);
    else
      c[key] = *v;
  };
  words("Entrypoint", edit.entrypoint);
  words("Cmd", edit.cmd);
  auto text = [&](const char* key, const std::optional<std::string>& v) {
    if (!v) return;
    if (v->empty())
      c.erase(key);
    else
      c[key] = *v;
  };
  text("User", edit.user);
  text("WorkingDir", edit.working_dir);
  text("StopSignal", edit.stop_signal);
  for (const char* key : {"Env", "Labels", "ExposedPorts"})
    if (c.contains(key) && c[key].empty()) c.erase(key);
  return ImageConfig::from_json(std::move(doc));
}

Manifest derive_manifest(const Manifest* base, Descriptor config, std::vector<Descriptor> extra) {
  config.media_type = std::string(media::kOciConfig);
  config.annotations.clear();
  std::vector<Descriptor> layers;
  if (base)
    for (auto d : base->layers()) {
      d.media_type = oci_type_for(d.media_type);
      layers.push_back(std::move(d));
    }
  for (auto& d : extra)
    layers.push_back(std::move(d));
  return Manifest::create(media::kOciManifest, std::move(config), std::move(layers));
}

}  // namespace kiln::oci
