#include "registry/tls.hpp"

#include <unistd.h>
#include <algorithm>
#include <cstdlib>
#include <sstream>

#include "base/files.hpp"

namespace kiln::registry {

namespace fs = std::filesystem;

std::vector<fs::path> default_certs_d_roots() {
  std::vector<fs::path> out;
  if (const char* home = std::getenv("HOME"); home && *home && ::geteuid() != 0)
    out.push_back(fs::path(home) / ".config/containers/certs.d");
  out.push_back("/etc/containers/certs.d");
  out.push_back("/etc/docker/certs.d");
  return out;
}

TlsSettings load_tls_settings(const std::string& host_port, const std::string& cert_dir,
                              const std::vector<fs::path>& roots, bool verify) {
  TlsSettings t;
  t.verify = verify;
  std::vector<fs::path> dirs;
  if (!cert_dir.empty())
    dirs.push_back(cert_dir);
  else
    for (auto& r : roots)
      dirs.push_back(r / host_port);
  for (auto& d : dirs) {
    std::error_code ec;
    if (!fs::is_directory(d, ec)) continue;
    std::vector<fs::path> files;
    for (auto& e : fs::directory_iterator(d, ec))
      files.push_back(e.path());
    std::sort(files.begin(), files.end());
    for (auto& f : files) {
      std::string ext = f.extension().string();
      if (ext == ".crt") {
        if (auto pem = read_file(f, 1 << 20)) t.extra_ca_pem += *pem + "\n";
      } else if (ext == ".cert" && t.client_cert.empty()) {
        fs::path key = f;
        key.replace_extension(".key");
        if (fs::exists(key, ec)) {
          t.client_cert = f.string();
          t.client_key = key.string();
        }
      }
    }
    // The first directory that exists wins, as containers/image does.
    if (!t.extra_ca_pem.empty() || !t.client_cert.empty()) break;
  }
  return t;
}

namespace {

std::string trim(std::string s) {
  size_t b = s.find_first_not_of(" \t\r");
  size_t e = s.find_last_not_of(" \t\r");
  return b == std::string::npos ? "" : s.substr(b, e - b + 1);
}

std::string unquote(std::string s) {
  s = trim(s);
  if (s.size() >= 2 && (s.front() == '"' || s.front() == '\'') && s.back() == s.front())
    return s.substr(1, s.size() - 2);
  return s;
}

// The quoted strings of a TOML array, "['a', \"b\"]".
std::vector<std::string> string_array(const std::string& v) {
  std::vector<std::string> out;
  size_t p = 0;
  while ((p = v.find_first_of("\"'", p)) != std::string::npos) {
    size_t e = v.find(v[p], p + 1);
    if (e == std::string::npos) break;
    out.push_back(v.substr(p + 1, e - p - 1));
    p = e + 1;
  }
  return out;
}

}  // namespace

std::set<std::string> insecure_registries(const fs::path& conf) {
  std::set<std::string> out;
  auto text = read_file(conf, 1 << 20);
  if (!text) return out;
  std::stringstream ss(*text);
  std::string line, section, location, prefix;
  bool insecure = false;
  auto flush = [&] {
    if (section == "[[registry]]" && insecure) {
      if (!location.empty()) out.insert(location);
      if (!prefix.empty()) out.insert(prefix);
    }
    location.clear();
    prefix.clear();
    insecure = false;
  };
  while (std::getline(ss, line)) {
    if (size_t h = line.find('#'); h != std::string::npos) line = line.substr(0, h);
    line = trim(line);
    if (line.empty()) continue;
    if (line.front() == '[') {
      flush();
      section = line;
      continue;
    }
    size_t eq = line.find('=');
    if (eq == std::string::npos) continue;
    std::string key = trim(line.substr(0, eq)), val = trim(line.substr(eq + 1));
    if (section == "[[registry]]") {
      if (key == "location") location = unquote(val);
      if (key == "prefix") prefix = unquote(val);
      if (key == "insecure") insecure = val == "true";
    } else if (section == "[registries.insecure]" && key == "registries") {
      for (auto& r : string_array(val))
        out.insert(r);
    }
  }
  flush();
  return out;
}

std::set<std::string> default_insecure_registries() {
  // As containers-registries.conf(5) has it: $CONTAINERS_REGISTRIES_CONF alone
  // when set; else the user's file in place of /etc's, with the drop-in
  // directories of both.
  if (const char* env = std::getenv("CONTAINERS_REGISTRIES_CONF"); env && *env)
    return insecure_registries(env);
  std::error_code ec;
  fs::path conf = "/etc/containers/registries.conf";
  std::vector<fs::path> dropins = {"/etc/containers/registries.conf.d"};
  if (const char* home = std::getenv("HOME"); home && *home) {
    fs::path user = fs::path(home) / ".config/containers";
    if (fs::exists(user / "registries.conf", ec)) conf = user / "registries.conf";
    dropins.push_back(user / "registries.conf.d");
  }
  auto s = insecure_registries(conf);
  for (auto& dir : dropins)
    for (auto& e : fs::directory_iterator(dir, ec))
      if (e.path().extension() == ".conf") s.merge(insecure_registries(e.path()));
  return s;
}

}  // namespace kiln::registry
