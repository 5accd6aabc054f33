#include "registry/sources.hpp"

#include <sstream>

#include "base/files.hpp"

namespace kiln::registry {

void BlobSources::record(const oci::Digest& d, const std::string& registry,
                         const std::string& repository) {
  if (!d.verifiable()) return;
  auto path = dir_ / std::string(d.hex());
  std::string line = registry + "/" + repository;
  std::string text;
  if (auto t = read_file(path, 64 * 1024)) text = *t;
  std::stringstream ss(text);
  std::string l;
  while (std::getline(ss, l))
    if (l == line) return;
  if (!make_dirs(dir_)) return;
  (void)write_file_atomic(path, text + line + "\n");
}

std::optional<std::string> BlobSources::find(const oci::Digest& d, const std::string& registry,
                                             const std::string& except) const {
  if (!d.verifiable()) return std::nullopt;
  auto text = read_file(dir_ / std::string(d.hex()), 64 * 1024);
  if (!text) return std::nullopt;
  std::stringstream ss(*text);
  std::string l, prefix = registry + "/";
  while (std::getline(ss, l))
    if (l.starts_with(prefix) && l.substr(prefix.size()) != except) return l.substr(prefix.size());
  return std::nullopt;
}

}  // namespace kiln::registry
