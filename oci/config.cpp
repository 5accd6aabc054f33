#include "oci/config.hpp"

#include <ctime>

#include "oci/json.hpp"
#include "oci/manifest.hpp"

namespace kiln::oci {

namespace {

std::vector<std::string> string_list(const nlohmann::json& j) {
  std::vector<std::string> out;
  if (!j.is_array()) return out;
  for (auto& v : j)
    if (v.is_string()) out.push_back(v.get<std::string>());
  return out;
}

const nlohmann::json& field(const nlohmann::json& doc, const char* section, const char* key) {
  static const nlohmann::json null;
  if (!doc.contains(section) || !doc[section].is_object()) return null;
  auto& s = doc[section];
  return s.contains(key) ? s[key] : null;
}

std::string string_field(const nlohmann::json& j, const char* key) {
  return j.contains(key) && j[key].is_string() ? j[key].get<std::string>() : "";
}

std::vector<std::string> object_keys(const nlohmann::json& j) {
  std::vector<std::string> out;
  if (j.is_object())
    for (auto& [k, v] : j.items())
      out.push_back(k);
  return out;
}

}  // namespace

Result<ImageConfig> ImageConfig::parse(std::string bytes) {
  auto j = oci::parse_untrusted_json(bytes);
  if (j.is_discarded() || !j.is_object()) return fail("image config is not a JSON object");
  for (const char* key : {"architecture", "os"})
    if (j.contains(key) && !j[key].is_string())
      return fail("image config ", key, " is not a string");
  if (j.contains("rootfs")) {
    auto& rootfs = j["rootfs"];
    if (!rootfs.is_object()) return fail("image config rootfs is not an object");
    if (rootfs.contains("diff_ids")) {
      if (!rootfs["diff_ids"].is_array())
        return fail("image config rootfs.diff_ids is not an array");
      for (auto& d : rootfs["diff_ids"]) {
        if (!d.is_string()) return fail("image config diff_id is not a string");
        auto parsed = DiffId::parse(d.get<std::string>());
        if (!parsed) return tl::unexpected(with_context(parsed.error(), "image config diff_ids"));
      }
    }
  }
  if (j.contains("config") && !j["config"].is_null() && !j["config"].is_object())
    return fail("image config \"config\" is not an object");
  ImageConfig c;
  c.doc_ = std::move(j);
  c.bytes_ = std::move(bytes);
  return c;
}

ImageConfig ImageConfig::create(const Platform& platform, std::string created) {
  nlohmann::json j = nlohmann::json::object();
  j["architecture"] = platform.architecture;
  j["os"] = platform.os;
  if (!platform.variant.empty()) j["variant"] = platform.variant;
  j["created"] = std::move(created);
  j["config"] = nlohmann::json::object();
  j["rootfs"] = {{"type", "layers"}, {"diff_ids", nlohmann::json::array()}};
  j["history"] = nlohmann::json::array();
  ImageConfig c;
  c.bytes_ = canonical_bytes(j);
  c.doc_ = std::move(j);
  return c;
}

Result<ImageConfig> ImageConfig::from_json(nlohmann::json doc) {
  return parse(canonical_bytes(doc));
}

Platform ImageConfig::platform() const {
  Platform p;
  p.os = string_field(doc_, "os");
  p.architecture = string_field(doc_, "architecture");
  p.variant = string_field(doc_, "variant");
  p.os_version = string_field(doc_, "os.version");
  return p;
}

std::string ImageConfig::created() const {
  return string_field(doc_, "created");
}
std::string ImageConfig::author() const {
  return string_field(doc_, "author");
}

std::vector<DiffId> ImageConfig::diff_ids() const {
  std::vector<DiffId> out;
  if (!doc_.contains("rootfs") || !doc_["rootfs"].contains("diff_ids")) return out;
  for (auto& d : doc_["rootfs"]["diff_ids"])
    if (auto parsed = DiffId::parse(d.get<std::string>())) out.push_back(*parsed);
  return out;
}

std::vector<Digest> ImageConfig::chain_ids() const {
  std::vector<Digest> out;
  for (const DiffId& d : diff_ids())
    out.push_back(out.empty() ? d.digest() : Digest::of_bytes(out.back().str() + " " + d.str()));
  return out;
}

std::vector<HistoryEntry> ImageConfig::history() const {
  std::vector<HistoryEntry> out;
  if (!doc_.contains("history") || !doc_["history"].is_array()) return out;
  for (auto& h : doc_["history"]) {
    if (!h.is_object()) continue;
    HistoryEntry e;
    e.created = string_field(h, "created");
    e.created_by = string_field(h, "created_by");
    e.comment = string_field(h, "comment");
    e.empty_layer =
        h.contains("empty_layer") && h["empty_layer"].is_boolean() && h["empty_layer"].get<bool>();
    out.push_back(std::move(e));
  }
  return out;
}

std::vector<std::string> ImageConfig::env() const {
  return string_list(field(doc_, "config", "Env"));
}
std::vector<std::string> ImageConfig::entrypoint() const {
  return string_list(field(doc_, "config", "Entrypoint"));
}
std::vector<std::string> ImageConfig::cmd() const {
  return string_list(field(doc_, "config", "Cmd"));
}

std::map<std::string, std::string> ImageConfig::labels() const {
  std::map<std::string, std::string> out;
  auto& l = field(doc_, "config", "Labels");
  if (l.is_object())
    for (auto& [k, v] : l.items())
      if (v.is_string()) out[k] = v.get<std::string>();
  return out;
}

std::string ImageConfig::user() const {
  auto& u = field(doc_, "config", "User");
  return u.is_string() ? u.get<std::string>() : "";
}
std::string ImageConfig::working_dir() const {
  auto& w = field(doc_, "config", "WorkingDir");
  return w.is_string() ? w.get<std::string>() : "";
}
std::vector<std::string> ImageConfig::exposed_ports() const {
  return object_keys(field(doc_, "config", "ExposedPorts"));
}
std::vector<std::string> ImageConfig::volumes() const {
  return object_keys(field(doc_, "config", "Volumes"));
}
std::string ImageConfig::stop_signal() const {
  auto& s = field(doc_, "config", "StopSignal");
  return s.is_string() ? s.get<std::string>() : "";
}

std::string rfc3339(int64_t unix_seconds) {
  std::time_t t = static_cast<std::time_t>(unix_seconds);
  std::tm tm{};
  ::gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

int64_t now_unix() {
  return static_cast<int64_t>(std::time(nullptr));
}

}  // namespace kiln::oci
