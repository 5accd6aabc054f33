// kiln mutate IMAGE -t REF: a new config (entrypoint, cmd, env, labels, user,
// workdir, exposed ports, stop signal) over the same layers. A registry image
// is edited in place on the registry: only the config and manifest move.
#include "cli/command.hpp"
#include "cli/image_edit_target.hpp"
#include "oci/image_edit.hpp"

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
        TRY_ASSIGN(auto config, oci::apply_config_edit(base.image.config, edit));
        oci::Descriptor cd;
        cd.digest = config.digest();
        cd.size = static_cast<int64_t>(config.bytes().size());
        auto manifest = oci::derive_manifest(&base.image.manifest, cd, {});
        return cli::write_edit_result(g, store, base, tag, config, manifest, {}, format == "json");
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
  cmd->add_option("--platform", platform, "Platform to pick from a remote index");
  kiln::cli::add_format_option(cmd, format);
}
