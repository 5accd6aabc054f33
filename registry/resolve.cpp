#include <algorithm>
#include <set>

#include "oci/manifest.hpp"
#include "oci/media_types.hpp"
#include "registry/transfer.hpp"

namespace kiln::registry {

namespace {

// Adds the manifest and its blobs not in `seen` yet (a set, not a scan of
// img.blobs: a hostile index can name hundreds of thousands of blobs).
Status add_manifest(ResolvedImage& img, std::set<oci::Digest>& seen, FetchedManifest m,
                    const std::string& what) {
  auto parsed = oci::Manifest::parse(m.bytes, m.media_type);
  if (!parsed) return fail(what, ": ", parsed.error().message);
  img.configs.insert(parsed->config().digest);
  if (seen.insert(parsed->config().digest).second) img.blobs.push_back(parsed->config());
  for (auto& l : parsed->layers())
    if (seen.insert(l.digest).second) img.blobs.push_back(l);
  img.manifests.push_back(std::move(m));
  return {};
}

constexpr size_t kMaxChildren = 1000;
constexpr int64_t kManifestLimit = 4 << 20;
constexpr int64_t kChildrenLimit = 64 << 20;

// A manifest an index points to, no larger than the index says (the digest
// check in get_manifest catches a size that lies the other way).
Result<FetchedManifest> fetch_child(Remote& remote, const oci::Descriptor& child) {
  if (child.size > kManifestLimit)
    return fail(remote.name(), ": manifest ", child.digest.str(), " is ", child.size,
                " bytes; kiln reads manifests of at most ", kManifestLimit);
  return remote.get_manifest(child.digest.str(), static_cast<size_t>(child.size));
}

}  // namespace

Result<ResolvedImage> resolve_remote(Remote& remote, const std::string& reference,
                                     const PlatformChoice& choice) {
  ResolvedImage img;
  std::set<oci::Digest> seen;
  TRY_ASSIGN(img.top, remote.get_manifest(reference));
  std::string what = remote.name() + ": manifest " + reference;
  if (oci::media::is_manifest(img.top.media_type)) {
    img.target = img.top.descriptor();
    TRY(add_manifest(img, seen, img.top, what));
    return img;
  }
  auto index = oci::Index::parse(img.top.bytes, img.top.media_type);
  if (!index) return fail(what, ": ", index.error().message);
  if (choice.all) {
    img.keep_index = true;
    img.target = img.top.descriptor();
    // Every child is held in memory until the copy is done: each is fetched
    // once, read up to its declared size, and all of them together are bounded.
    if (index->manifests().size() > kMaxChildren)
      return fail(what, ": the index lists ", index->manifests().size(),
                  " manifests; kiln takes at most ", kMaxChildren);
    int64_t total = 0;
    for (auto& child : index->manifests()) {
      if (!oci::media::is_manifest(child.media_type))
        return fail(what, ": nested index ", child.digest.str(), " is not supported");
      bool fetched = false;
      for (auto& m : img.manifests)
        fetched = fetched || m.digest == child.digest;
      if (fetched) continue;
      total += std::min(child.size, kManifestLimit + 1);
      if (total > kChildrenLimit)
        return fail(what, ": the index's manifests come to more than ", kChildrenLimit >> 20,
                    " MiB");
      TRY_ASSIGN(auto m, fetch_child(remote, child));
      TRY(add_manifest(img, seen, std::move(m),
                       remote.name() + ": manifest " + child.digest.str()));
    }
    return img;
  }
  oci::Platform want = choice.platform ? *choice.platform : oci::Platform::host();
  const oci::Descriptor* pick = nullptr;
  for (auto& child : index->manifests())
    if (oci::media::is_manifest(child.media_type) && child.platform &&
        want.matches(*child.platform)) {
      pick = &child;
      break;
    }
  if (!pick) {
    std::string have;
    for (auto& child : index->manifests())
      if (child.platform) have += (have.empty() ? "" : ", ") + child.platform->str();
    return fail(what, ": no image for platform ", want.str(), " (available: ", have, ")");
  }
  TRY_ASSIGN(auto m, fetch_child(remote, *pick));
  img.target = *pick;
  img.target.annotations.clear();
  TRY(add_manifest(img, seen, std::move(m), remote.name() + ": manifest " + pick->digest.str()));
  return img;
}

Result<oci::LocalImage> fetch_remote_image(Remote& remote, const std::string& reference,
                                           const std::optional<oci::Platform>& platform) {
  PlatformChoice choice;
  choice.platform = platform;
  TRY_ASSIGN(auto img, resolve_remote(remote, reference, choice));
  const FetchedManifest& fm = img.manifests.front();
  auto m = oci::Manifest::parse(fm.bytes, fm.media_type);
  if (!m) return fail(remote.name(), ": manifest ", fm.digest.str(), ": ", m.error().message);
  TRY_ASSIGN(auto cfg, fetch_config(remote, m->config()));
  return oci::LocalImage{
      remote.name() + (reference.find(':') != std::string::npos ? "@" : ":") + reference,
      img.top.descriptor(), std::move(*m), std::move(cfg)};
}

Status check_config_size(const Remote& remote, const oci::Descriptor& d) {
  if (d.size > static_cast<int64_t>(oci::kMaxConfigSize))
    return fail(remote.name(), ": config ", d.digest.str(), ": its descriptor says ", d.size,
                " bytes, larger than the limit of ", oci::kMaxConfigSize, " bytes for a config");
  return {};
}

Result<oci::ImageConfig> fetch_config(Remote& remote, const oci::Descriptor& d) {
  TRY(check_config_size(remote, d));
  std::string what = remote.name() + ": config " + d.digest.str();
  TRY_ASSIGN(auto reader, remote.open_blob(d, 0, BodyUse::document));
  VerifyingReader verify(*reader, static_cast<uint64_t>(d.size), std::string(d.digest.hex()), what);
  TRY_ASSIGN(std::string bytes, read_all(verify, oci::kMaxConfigSize, what));
  auto cfg = oci::ImageConfig::parse(std::move(bytes));
  if (!cfg) return fail(what, ": ", cfg.error().message);
  return std::move(*cfg);
}

std::string human_size(int64_t b) {
  const char* units[] = {"B", "kB", "MB", "GB", "TB"};
  double v = static_cast<double>(b);
  int u = 0;
  while (v >= 1000 && u < 4) {
    v /= 1000;
    ++u;
  }
  char buf[32];
  std::snprintf(buf, sizeof buf, u == 0 ? "%.0f %s" : "%.1f %s", v, units[u]);
  return buf;
}

}  // namespace kiln::registry
