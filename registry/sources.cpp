#include "registry/sources.hpp"

#include <sstream>

#include "base/files.hpp"

namespace kiln::registry {

BlobSources::BlobSources(const oci::Store& store)
    : shown_(store.kiln_dir() / "registry" / "sources") {
  if (auto reg = store.state_dir("registry"))
    if (auto dir = ensure_dir_beneath(reg->get(), "sources", 0755, shown_)) dir_ = std::move(*dir);
}

void BlobSources::record(const oci::Digest& d, const std::string& registry,
                         const std::string& repository) {
  if (!d.verifiable() || !dir_) return;
  std::string name(d.hex());
  std::string line = registry + "/" + repository;
  std::string text;
  if (auto t = read_file_beneath(dir_.get(), name, shown_ / name, 64 * 1024)) text = *t;
  std::stringstream ss(text);
  std::string l;
  while (std::getline(ss, l))
    if (l == line) return;
  auto file = AtomicFile::create_in(dir_.get(), shown_);
  if (file && file->write(text + line + "\n")) (void)file->commit_at(dir_.get(), name);
}

std::optional<std::string> BlobSources::find(const oci::Digest& d, const std::string& registry,
                                             const std::string& except) const {
  if (!d.verifiable() || !dir_) return std::nullopt;
  std::string name(d.hex());
  auto text = read_file_beneath(dir_.get(), name, shown_ / name, 64 * 1024);
  if (!text) return std::nullopt;
  std::stringstream ss(*text);
  std::string l, prefix = registry + "/";
  while (std::getline(ss, l))
    if (l.starts_with(prefix) && l.substr(prefix.size()) != except) return l.substr(prefix.size());
  return std::nullopt;
}

}  // namespace kiln::registry
