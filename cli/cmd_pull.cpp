// kiln pull REF [--platform P | --all-platforms] [--jobs N]: registry → store.
#include <iostream>

#include "cli/command.hpp"
#include "oci/reference.hpp"
#include "oci/store.hpp"
#include "registry/transfer.hpp"

KILN_COMMAND(pull) {
  static std::string ref, platform;
  static bool all = false, quiet = false;
  static int jobs = 4;
  auto* cmd = kiln::cli::add_command(
      app, g, "pull", "Pull an image from a registry", [&g]() -> kiln::Status {
        using namespace kiln;
        TRY_ASSIGN(auto r, oci::Reference::parse(ref));
        registry::TransferOptions t;
        t.jobs = jobs;
        t.platforms.all = all;
        if (!platform.empty()) {
          TRY_ASSIGN(auto p, oci::Platform::parse(platform));
          t.platforms.platform = p;
        }
        if (!quiet) t.progress = [](const std::string& line) { std::cerr << line << '\n'; };
        TRY_ASSIGN(auto store, kiln::cli::open_store(g));
        auto remote = registry::remote_for(
            r.registry, r.repository,
            registry::ClientOptions::from_flags(g.tls_verify, g.cert_dir, g.authfile));
        TRY_ASSIGN(auto res, registry::pull_image(remote, r.identifier(), store, t));
        // res.lease lives until here: the blobs are named before it goes.
        TRY(store.set_name(r.str(), res.target));
        cli::print_line(res.target.digest.str());
        return {};
      });
  cmd->add_option("REF", ref, "Image reference (registry/repository[:tag][@digest])")->required();
  auto* p = cmd->add_option("--platform", platform, "OS/ARCH[/VARIANT] to pull from an index");
  cmd->add_flag("--all-platforms", all, "Keep the whole index with every platform")->excludes(p);
  cmd->add_option("-j,--jobs", jobs, "Blobs fetched in parallel")->check(CLI::Range(1, 64));
  cmd->add_flag("-q,--quiet", quiet, "No progress lines");
}
