// Commands that work on a registry without pulling: ls, catalog, manifest,
// config, digest, delete.
#include "cli/command.hpp"
#include "oci/reference.hpp"
#include "registry/transfer.hpp"

namespace {

kiln::registry::ClientOptions client_options(const kiln::cli::Globals& g) {
  return kiln::registry::ClientOptions::from_flags(g.tls_verify, g.cert_dir, g.authfile);
}

kiln::registry::Remote remote_of(const kiln::oci::Reference& r, const kiln::cli::Globals& g) {
  return kiln::registry::remote_for(r.registry, r.repository, client_options(g));
}

}  // namespace

KILN_COMMAND(ls) {
  static std::string repo, format = "text";
  auto* cmd =
      kiln::cli::add_command(app, g, "ls", "List the tags of a repository", [&g]() -> kiln::Status {
        using namespace kiln;
        TRY_ASSIGN(auto r, oci::Reference::parse_repository(repo));
        auto remote = remote_of(r, g);
        TRY_ASSIGN(auto tags, remote.tags());
        if (format == "json") {
          cli::print_json(tags);
        } else {
          for (auto& t : tags)
            cli::print_line(t);
        }
        return {};
      });
  cmd->add_option("REPO", repo, "Repository (registry/name)")->required();
  kiln::cli::add_format_option(cmd, format);
}

KILN_COMMAND(catalog) {
  static std::string reg, format = "text";
  auto* cmd = kiln::cli::add_command(
      app, g, "catalog", "List the repositories of a registry", [&g]() -> kiln::Status {
        using namespace kiln;
        std::string host = reg;
        for (const char* scheme : {"https://", "http://"})
          if (host.rfind(scheme, 0) == 0) host = host.substr(std::string(scheme).size());
        host = host.substr(0, host.find('/'));
        auto client = registry::Client::create(host, client_options(g));
        TRY_ASSIGN(auto repos, registry::catalog(*client));
        if (format == "json") {
          cli::print_json(repos);
        } else {
          for (auto& r : repos)
            cli::print_line(r);
        }
        return {};
      });
  cmd->add_option("REGISTRY", reg, "Registry host[:port]")->required();
  kiln::cli::add_format_option(cmd, format);
}

KILN_COMMAND(manifest) {
  static std::string ref;
  auto* cmd = kiln::cli::add_command(app, g, "manifest",
                                     "Print a manifest or index exactly as the registry serves it",
                                     [&g]() -> kiln::Status {
                                       using namespace kiln;
                                       TRY_ASSIGN(auto r, oci::Reference::parse(ref));
                                       auto remote = remote_of(r, g);
                                       TRY_ASSIGN(auto m, remote.get_manifest(r.identifier()));
                                       cli::print_document(m.bytes);
                                       return {};
                                     });
  cmd->add_option("REF", ref, "Image reference")->required();
}

KILN_COMMAND(config) {
  static std::string ref, platform;
  auto* cmd = kiln::cli::add_command(
      app, g, "config", "Print an image's config blob exactly", [&g]() -> kiln::Status {
        using namespace kiln;
        TRY_ASSIGN(auto r, oci::Reference::parse(ref));
        std::optional<oci::Platform> p;
        if (!platform.empty()) {
          TRY_ASSIGN(p, oci::Platform::parse(platform));
        }
        auto remote = remote_of(r, g);
        TRY_ASSIGN(auto img, registry::fetch_remote_image(remote, r.identifier(), p));
        cli::print_document(img.config.bytes());
        return {};
      });
  cmd->add_option("REF", ref, "Image reference")->required();
  cmd->add_option("--platform", platform, "OS/ARCH[/VARIANT] to pick from an index");
}

KILN_COMMAND(digest) {
  static std::string ref;
  auto* cmd = kiln::cli::add_command(
      app, g, "digest", "Print the digest a reference names", [&g]() -> kiln::Status {
        using namespace kiln;
        TRY_ASSIGN(auto r, oci::Reference::parse(ref));
        auto remote = remote_of(r, g);
        TRY_ASSIGN(auto d, remote.head_manifest(r.identifier()));
        if (!d) return fail(r.name(), ": manifest ", r.identifier(), ": not found (HTTP 404)");
        cli::print_line(d->digest.str());
        return {};
      });
  cmd->add_option("REF", ref, "Image reference")->required();
}

KILN_COMMAND(delete) {
  static std::string ref;
  auto* cmd = kiln::cli::add_command(
      app, g, "delete", "Delete a manifest from a registry", [&g]() -> kiln::Status {
        using namespace kiln;
        TRY_ASSIGN(auto r, oci::Reference::parse(ref));
        auto remote = remote_of(r, g);
        oci::Digest d;
        if (r.digest) {
          d = *r.digest;
        } else {
          TRY_ASSIGN(auto head, remote.head_manifest(r.tag));
          if (!head) return fail(r.name(), ": manifest ", r.tag, ": not found (HTTP 404)");
          d = head->digest;
        }
        TRY(remote.delete_manifest(d));
        cli::print_line(d.str());
        return {};
      });
  cmd->add_option("REF", ref, "Image reference (tag or digest)")->required();
}
