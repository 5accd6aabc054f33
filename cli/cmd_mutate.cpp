// kiln mutate IMAGE -t REF: a new config (entrypoint, cmd, env, labels, user,
// workdir, exposed ports, stop signal) over the same layers. A registry image
// is edited in place on the registry: only the config and manifest move. A
// registry index is edited platform by platform into a new index, unless
// --platform picks one image.
#include <iostream>

#include "cli/command.hpp"
#include "cli/image_edit_target.hpp"
#include "oci/image_edit.hpp"
#include "oci/media_types.hpp"

namespace {

using namespace kiln;

// The edited config and a manifest over the same layers.
Result<std::pair<oci::ImageConfig, oci::Manifest>> edit_image(const oci::LocalImage& img,
                                                              const oci::ConfigEdit& edit) {
  TRY_ASSIGN(auto config, oci::apply_config_edit(img.config, edit));
  oci::Descriptor cd;
  cd.digest = config.digest();
  cd.size = static_cast<int64_t>(config.bytes().size());
  auto manifest = oci::derive_manifest(&img.manifest, cd, {});
  return std::pair{std::move(config), std::move(manifest)};
}

// Every image of a registry index edited alike and pushed by digest, then a
// new index over them under `tag`. Attestation manifests describe the old
// images, so they are left out; other non-image entries are kept as they are.
Status mutate_index(const cli::Globals& g, registry::Remote& src, const oci::Descriptor& top,
                    const std::string& tag, const oci::ConfigEdit& edit, bool json) {
  TRY_ASSIGN(auto fetched, src.get_manifest(top.digest.str()));
  TRY_ASSIGN(auto index, oci::Index::parse(fetched.bytes, fetched.media_type));
  TRY_ASSIGN(auto ref, oci::Reference::parse(tag));
  auto dst = cli::edit_destination(g, src, ref);
  std::vector<oci::Descriptor> children;
  for (const oci::Descriptor& child : index.manifests()) {
    auto kind = child.annotations.find("vnd.docker.reference.type");
    if (kind != child.annotations.end() && kind->second == "attestation-manifest") {
      std::cerr << "Dropping attestation " << child.digest.str() << " (it attests the old image)\n";
      continue;
    }
    if (!oci::media::is_manifest(child.media_type)) {
      children.push_back(child);
      continue;
    }
    TRY_ASSIGN(auto img, registry::fetch_remote_image(src, child.digest.str()));
    TRY_ASSIGN(auto edited, edit_image(img, edit));
    auto& [config, manifest] = edited;
    TRY(registry::push_derived(src, dst, "", manifest,
                               {{manifest.config(), registry::bytes_opener(config.bytes())}}, {}));
    oci::Descriptor d = manifest.descriptor();
    d.platform = child.platform;
    d.annotations = child.annotations;
    children.push_back(std::move(d));
  }
  std::map<std::string, std::string> annotations;
  if (auto a = index.json().find("annotations"); a != index.json().end() && a->is_object())
    for (auto& [k, v] : a->items())
      if (v.is_string()) annotations[k] = v.get<std::string>();
  auto result = oci::Index::create(index.media_type(), children, annotations);
  TRY(dst.put_manifest(ref.tag.empty() ? result.digest().str() : ref.tag, result.bytes(),
                       result.media_type()));
  if (json)
    cli::print_json({{"ref", ref.str()}, {"digest", result.digest().str()}});
  else
    cli::print_line(result.digest().str());
  return {};
}

}  // namespace

KILN_COMMAND(mutate) {
  static std::string image, tag, platform, format = "text";
  // Given, even as "", means set (or clear); absent means keep.
  static std::string entrypoint, cmd_line, user, workdir, stop_signal;
  static CLI::Option *entrypoint_opt, *cmd_opt, *user_opt, *workdir_opt, *stop_opt;
  static kiln::oci::ConfigEdit edit;
  auto* cmd = kiln::cli::add_command(
      app, g, "mutate", "Change an image's runtime config (local or on its registry)",
      [&g]() -> kiln::Status {
        using namespace kiln;
        TRY(oci::Reference::parse(tag));  // before any work
        if (entrypoint_opt->count()) {
          TRY_ASSIGN(edit.entrypoint, oci::parse_command_words("--entrypoint", entrypoint));
        }
        if (cmd_opt->count()) {
          TRY_ASSIGN(edit.cmd, oci::parse_command_words("--cmd", cmd_line));
        }
        if (user_opt->count()) edit.user = user;
        if (workdir_opt->count()) edit.working_dir = workdir;
        if (stop_opt->count()) edit.stop_signal = stop_signal;
        TRY_ASSIGN(auto store, cli::open_store(g));
        TRY_ASSIGN(auto base, cli::open_edit_base(g, image, platform));
        if (base.from && platform.empty() && oci::media::is_index(base.image.top.media_type))
          return mutate_index(g, *base.from, base.image.top, tag, edit, format == "json");
        TRY_ASSIGN(auto edited, edit_image(base.image, edit));
        return cli::write_edit_result(g, store, base, tag, edited.first, edited.second, {},
                                      format == "json");
      });
  cmd->add_option("IMAGE", image, "Local image, or a registry reference (docker://REF)")
      ->required();
  cmd->add_option("-t,--tag", tag, "Name of the result (a registry reference for a registry image)")
      ->required();
  const char* words = "JSON array, or words split on spaces; \"\" clears it";
  entrypoint_opt = cmd->add_option("--entrypoint", entrypoint, words);
  cmd_opt = cmd->add_option("--cmd", cmd_line, words);
  cmd->add_option("--env", edit.env, "Set K=V (repeatable)");
  cmd->add_option("--unset-env", edit.unset_env, "Remove variable K (repeatable)");
  cmd->add_option("--label", edit.labels, "Set label K=V (repeatable)");
  cmd->add_option("--unset-label", edit.unset_labels, "Remove label K (repeatable)");
  cmd->add_option("--expose", edit.expose, "Expose PORT[/tcp|udp|sctp] (repeatable)");
  cmd->add_option("--unexpose", edit.unexpose, "Stop exposing PORT[/PROTO] (repeatable)");
  user_opt = cmd->add_option("--user", user, "User (USER[:GROUP]); \"\" clears it");
  workdir_opt = cmd->add_option("--workdir", workdir, "Working directory; \"\" clears it");
  stop_opt =
      cmd->add_option("--stop-signal", stop_signal, "Stop signal (SIGTERM, 15); \"\" clears it");
  cmd->add_option("--platform", platform,
                  "Edit only this platform of an index (the result is that one image)");
  kiln::cli::add_format_option(cmd, format);
}
