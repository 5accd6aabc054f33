// kiln copy SRC DST: registry ↔ registry (streamed, never through the store)
// and registry ↔ oci:DIR[:TAG] (an OCI image layout directory).
#include <iostream>

#include "cli/command.hpp"
#include "oci/reference.hpp"
#include "registry/transfer.hpp"

namespace {

struct Endpoint {
  bool is_dir = false;
  kiln::oci::Reference ref;  // registry endpoints
  std::string dir, tag;      // oci: endpoints
};

kiln::Result<Endpoint> parse_endpoint(const std::string& s) {
  Endpoint e;
  if (s.rfind("oci:", 0) == 0) {
    e.is_dir = true;
    std::string rest = s.substr(4);
    // oci:DIR[:TAG] — the tag is what follows the last ':' unless that is part of a path.
    size_t colon = rest.rfind(':');
    if (colon != std::string::npos && rest.find('/', colon) == std::string::npos) {
      e.dir = rest.substr(0, colon);
      e.tag = rest.substr(colon + 1);
    } else {
      e.dir = rest;
    }
    if (e.dir.empty()) return kiln::fail("copy: \"", s, "\" has no directory");
    return e;
  }
  for (const char* t : {"oci-archive:", "docker-archive:", "dir:", "containers-storage:"})
    if (s.rfind(t, 0) == 0)
      return kiln::fail("copy: the ", std::string(t).substr(0, std::string(t).size() - 1),
                        " transport is not supported yet (use oci:DIR or a registry reference)");
  std::string r = s.rfind("docker://", 0) == 0 ? s.substr(9) : s;
  TRY_ASSIGN(e.ref, kiln::oci::Reference::parse(r));
  return e;
}

// The entry of an OCI layout named `tag`, or its only entry when no tag is given.
kiln::Result<kiln::oci::Descriptor> find_in_layout(const kiln::oci::Store& layout,
                                                   const std::string& dir, const std::string& tag) {
  using namespace kiln;
  TRY_ASSIGN(auto entries, layout.entries());
  std::vector<oci::Descriptor> found;
  for (auto& d : entries) {
    auto it = d.annotations.find(std::string(oci::kRefNameAnnotation));
    bool named = it != d.annotations.end();
    if (tag.empty() || (named && it->second == tag)) found.push_back(d);
  }
  if (found.empty())
    return fail("copy: no image ", tag.empty() ? "" : "\"" + tag + "\" ", "in ", dir);
  if (found.size() > 1)
    return fail("copy: ", dir, " holds several images; name one with oci:DIR:TAG");
  return found.front();
}

}  // namespace

KILN_COMMAND(copy) {
  static std::string src, dst, platform;
  static bool all = false, quiet = false;
  static int jobs = 4;
  auto* cmd = kiln::cli::add_command(
      app, g, "copy", "Copy an image between registries and OCI layouts", [&g]() -> kiln::Status {
        using namespace kiln;
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
        registry::TransferResult res;
        if (!from.is_dir && !to.is_dir) {
          auto s = registry::remote_for(from.ref.registry, from.ref.repository, opts);
          auto d = to.ref.registry == from.ref.registry
                       ? registry::Remote(s.client_ptr(), to.ref.repository)
                       : registry::remote_for(to.ref.registry, to.ref.repository, opts);
          TRY_ASSIGN(res, registry::copy_image(s, from.ref.identifier(), d, to.ref.tag, t));
        } else if (!from.is_dir && to.is_dir) {
          TRY_ASSIGN(auto layout, oci::Store::open(to.dir));
          auto s = registry::remote_for(from.ref.registry, from.ref.repository, opts);
          TRY_ASSIGN(res, registry::pull_image(s, from.ref.identifier(), layout, t));
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
        } else if (from.is_dir && !to.is_dir) {
          if (!std::filesystem::exists(std::filesystem::path(from.dir) / "oci-layout"))
            return fail("copy: ", from.dir, " is not an OCI image layout");
          TRY_ASSIGN(auto layout, oci::Store::open(from.dir));
          TRY_ASSIGN(auto top, find_in_layout(layout, from.dir, from.tag));
          auto d = registry::remote_for(to.ref.registry, to.ref.repository, opts);
          TRY_ASSIGN(res, registry::push_image(layout, top, d, to.ref.tag, t));
        } else {
          return fail("copy: between two OCI layouts is not supported; use a registry on one side");
        }
        cli::print_line(res.target.digest.str());
        return {};
      });
  cmd->add_option("SRC", src, "REF, docker://REF or oci:DIR[:TAG]")->required();
  cmd->add_option("DST", dst, "REF, docker://REF or oci:DIR[:TAG]")->required();
  auto* p = cmd->add_option("--platform", platform, "OS/ARCH[/VARIANT] to copy from an index");
  cmd->add_flag("--all-platforms,-a,--all", all, "Copy the whole index")->excludes(p);
  cmd->add_option("-j,--jobs", jobs, "Blobs copied in parallel")->check(CLI::Range(1, 64));
  cmd->add_flag("-q,--quiet", quiet, "No progress lines");
}
