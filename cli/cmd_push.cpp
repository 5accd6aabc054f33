// kiln push IMAGE [DEST]: store → registry. DEST defaults to IMAGE's name.
#include <iostream>

#include "cli/command.hpp"
#include "oci/reference.hpp"
#include "oci/store.hpp"
#include "registry/transfer.hpp"

KILN_COMMAND(push) {
  static std::string image, dest;
  static bool quiet = false;
  static int jobs = 4;
  auto* cmd =
      kiln::cli::add_command(app, g, "push", "Push an image to a registry", [&g]() -> kiln::Status {
        using namespace kiln;
        TRY_ASSIGN(auto store, oci::Store::open(g.root.empty() ? oci::Store::default_root()
                                                               : std::filesystem::path(g.root)));
        TRY_ASSIGN(auto top, store.resolve(image));
        std::string target = dest;
        if (target.empty()) {
          auto it = top.annotations.find(std::string(oci::kRefNameAnnotation));
          if (it == top.annotations.end())
            return fail("push ", image, ": the image has no name; give a destination");
          target = it->second;
        }
        TRY_ASSIGN(auto r, oci::Reference::parse(target));
        if (r.digest && *r.digest != top.digest)
          return fail("push ", image, ": the destination names digest ", r.digest->str(),
                      " but the image is ", top.digest.str());
        registry::TransferOptions t;
        t.jobs = jobs;
        if (!quiet) t.progress = [](const std::string& line) { std::cerr << line << '\n'; };
        auto remote = registry::remote_for(
            r.registry, r.repository,
            registry::ClientOptions::from_flags(g.tls_verify, g.cert_dir, g.authfile));
        TRY_ASSIGN(auto res, registry::push_image(store, top, remote, r.tag, t));
        cli::print_line(res.target.digest.str());
        return {};
      });
  cmd->add_option("IMAGE", image, "Image in the local store")->required();
  cmd->add_option("DEST", dest, "Destination reference (default: the image's name)");
  cmd->add_option("-j,--jobs", jobs, "Blobs uploaded in parallel")->check(CLI::Range(1, 64));
  cmd->add_flag("-q,--quiet", quiet, "No progress lines");
}
