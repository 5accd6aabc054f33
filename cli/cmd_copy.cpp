// kiln copy SRC DST: registry ↔ registry (streamed, never through the store),
// registry ↔ oci:DIR[:TAG] (an OCI image layout directory), and registry ↔
// oci-archive:FILE / docker-archive:FILE.
#include <iostream>

#include "base/files.hpp"
#include "base/output_target.hpp"
#include "cli/command.hpp"
#include "layers/image_archive.hpp"
#include "oci/reference.hpp"
#include "registry/transfer.hpp"

namespace {

using namespace kiln;

enum class Kind { registry, dir, archive };

struct Endpoint {
  Kind kind = Kind::registry;
  oci::Reference ref;    // registry
  std::string dir, tag;  // oci:DIR[:TAG]
  std::string file;      // archives
  layers::ArchiveFormat format = layers::ArchiveFormat::oci;
};

Result<Endpoint> parse_endpoint(const std::string& s) {
  Endpoint e;
  if (s.rfind("oci:", 0) == 0) {
    e.kind = Kind::dir;
    std::string rest = s.substr(4);
    // oci:DIR[:TAG]: the tag follows the last ':' unless that is inside a path.
    size_t colon = rest.rfind(':');
    if (colon != std::string::npos && rest.find('/', colon) == std::string::npos) {
      e.dir = rest.substr(0, colon);
      e.tag = rest.substr(colon + 1);
    } else {
      e.dir = rest;
    }
    if (e.dir.empty()) return fail("copy: \"", s, "\" has no directory");
    return e;
  }
  for (std::string t : {"oci-archive:", "docker-archive:"})
    if (s.rfind(t, 0) == 0) {
      e.kind = Kind::archive;
      e.format = t == "oci-archive:" ? layers::ArchiveFormat::oci : layers::ArchiveFormat::docker;
      e.file = s.substr(t.size());
      if (e.file.empty()) return fail("copy: \"", s, "\" has no file");
      return e;
    }
  for (std::string t : {"dir:", "containers-storage:", "docker-daemon:"})
    if (s.rfind(t, 0) == 0)
      return fail("copy: the ", t.substr(0, t.size() - 1),
                  " transport is not supported (use a registry reference, oci:, oci-archive: or "
                  "docker-archive:)");
  std::string r = s.rfind("docker://", 0) == 0 ? s.substr(9) : s;
  TRY_ASSIGN(e.ref, oci::Reference::parse(r));
  return e;
}

// The entry of an OCI layout named `tag`, or its only entry when no tag is given.
Result<oci::Descriptor> find_in_layout(const oci::Store& layout, const std::string& dir,
                                       const std::string& tag) {
  TRY_ASSIGN(auto entries, layout.entries());
  std::vector<oci::Descriptor> found;
  for (auto& d : entries) {
    auto it = d.annotations.find(std::string(oci::kRefNameAnnotation));
    if (tag.empty() || (it != d.annotations.end() && it->second == tag)) found.push_back(d);
  }
  if (found.empty())
    return fail("copy: no image ", tag.empty() ? "" : "\"" + tag + "\" ", "in ", dir);
  if (found.size() > 1)
    return fail("copy: ", dir, " holds several images; name one with oci:DIR:TAG");
  return found.front();
}

Result<registry::TransferResult> copy(const Endpoint& from, const Endpoint& to,
                                      registry::TransferOptions t,
                                      const registry::ClientOptions& opts) {
  bool src_remote = from.kind == Kind::registry, dst_remote = to.kind == Kind::registry;
  if (src_remote == dst_remote && !(src_remote && dst_remote))
    return fail("copy: one side must be a registry (use kiln load/save for local archives)");
  if (src_remote && dst_remote) {
    auto s = registry::remote_for(from.ref.registry, from.ref.repository, opts);
    auto d = to.ref.registry == from.ref.registry
                 ? registry::Remote(s.client_ptr(), to.ref.repository)
                 : registry::remote_for(to.ref.registry, to.ref.repository, opts);
    return registry::copy_image(s, from.ref.identifier(), d, to.ref.tag, t);
  }
  if (to.kind == Kind::archive) {
    // Straight from the registry into the archive: manifest and config in
    // memory, layers streamed (docker-archive: one temporary file per layer,
    // as a tar header needs the uncompressed size first).
    auto s = registry::remote_for(from.ref.registry, from.ref.repository, opts);
    TRY_ASSIGN(auto img,
               registry::fetch_remote_image(s, from.ref.identifier(), t.platforms.platform));
    img.name = from.ref.str();
    img.top = img.manifest.descriptor();
    oci::BlobOpen open = [&s](const oci::Descriptor& d) {
      return registry::open_verified_blob(s, d);
    };
    TRY_ASSIGN(auto out, OutputTarget::open(to.file));
    TRY(layers::save_archive_from(open, {img}, to.format, out, out.scratch_dir()));
    TRY(out.commit());
    registry::TransferResult res;
    res.target = img.top;
    return res;
  }
  if (from.kind == Kind::archive) {
    // An archive is read front to back with its entries in any order (the
    // index or manifest.json may come last), and docker-archive layers are
    // uncompressed tars that must be compressed and hashed before a registry
    // takes them: so it is unpacked into a throwaway store, then pushed.
    TRY_ASSIGN(auto tmp, TempDir::create(std::filesystem::temp_directory_path(), "kiln-copy-"));
    TRY_ASSIGN(auto scratch, oci::Store::open(tmp.path() / "store"));
    TRY_ASSIGN(auto loaded, layers::load_archive(scratch, from.file));
    if (loaded.size() != 1)
      return fail("copy: ", from.file, " holds ", loaded.size(), " images; copy needs exactly one");
    auto d = registry::remote_for(to.ref.registry, to.ref.repository, opts);
    return registry::push_image(scratch, loaded[0].descriptor, d, to.ref.tag, t);
  }
  if (src_remote) {
    TRY_ASSIGN(auto layout, oci::Store::open(to.dir));
    auto s = registry::remote_for(from.ref.registry, from.ref.repository, opts);
    TRY_ASSIGN(auto res, registry::pull_image(s, from.ref.identifier(), layout, t));
    if (!to.tag.empty()) {
      TRY(layout.set_name(to.tag, res.target));
    } else {
      TRY(layout.update_index([&](std::vector<oci::Descriptor>& list) -> Status {
        for (auto& d : list)
          if (d.digest == res.target.digest) return {};
        list.push_back(res.target);
        return {};
      }));
    }
    return res;
  }
  if (!std::filesystem::exists(std::filesystem::path(from.dir) / "oci-layout"))
    return fail("copy: ", from.dir, " is not an OCI image layout");
  TRY_ASSIGN(auto layout, oci::Store::open(from.dir));
  TRY_ASSIGN(auto top, find_in_layout(layout, from.dir, from.tag));
  auto d = registry::remote_for(to.ref.registry, to.ref.repository, opts);
  return registry::push_image(layout, top, d, to.ref.tag, t);
}

// The store code keeps its lock and temporaries under DIR/kiln/; an oci:DIR
// is a plain OCI layout for other tools, so what this copy created there goes.
class LayoutStateCleanup {
 public:
  explicit LayoutStateCleanup(const Endpoint& e) {
    std::error_code ec;
    if (e.kind == Kind::dir && !std::filesystem::exists(std::filesystem::path(e.dir) / "kiln", ec))
      path_ = std::filesystem::path(e.dir) / "kiln";
  }
  ~LayoutStateCleanup() {
    std::error_code ec;
    if (!path_.empty()) std::filesystem::remove_all(path_, ec);
  }

 private:
  std::filesystem::path path_;
};

}  // namespace

KILN_COMMAND(copy) {
  static std::string src, dst, platform;
  static bool all = false, quiet = false;
  static int jobs = 4;
  auto* cmd = kiln::cli::add_command(
      app, g, "copy", "Copy an image between registries, OCI layouts and archives",
      [&g]() -> kiln::Status {
        TRY_ASSIGN(auto from, parse_endpoint(src));
        TRY_ASSIGN(auto to, parse_endpoint(dst));
        registry::TransferOptions t;
        t.jobs = jobs;
        t.platforms.all = all;
        if (!platform.empty()) {
          TRY_ASSIGN(auto p, oci::Platform::parse(platform));
          t.platforms.platform = p;
        }
        if (!quiet) t.progress = [](const std::string& line) { std::cerr << line << '\n'; };
        auto opts = registry::ClientOptions::from_flags(g.tls_verify, g.cert_dir, g.authfile);
        LayoutStateCleanup clean_from(from), clean_to(to);
        TRY_ASSIGN(auto res, copy(from, to, t, opts));
        cli::print_line(res.target.digest.str());
        return {};
      });
  const char* where = "REF, docker://REF, oci:DIR[:TAG], oci-archive:FILE or docker-archive:FILE";
  cmd->add_option("SRC", src, where)->required();
  cmd->add_option("DST", dst, where)->required();
  auto* p = cmd->add_option("--platform", platform, "OS/ARCH[/VARIANT] to copy from an index");
  cmd->add_flag("-a,--all-platforms,--all", all, "Copy the whole index")->excludes(p);
  cmd->add_option("-j,--jobs", jobs, "Blobs copied in parallel")->check(CLI::Range(1, 64));
  cmd->add_flag("-q,--quiet", quiet, "No progress lines");
}
