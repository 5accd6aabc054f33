// kiln tag SRC DST...: more names for an image; kiln rmi IMAGE...: remove names
// and the blobs only they reached.
#include "cli/command.hpp"
#include "cli/format.hpp"
#include "oci/reference.hpp"
#include "oci/store_check.hpp"

namespace kiln::cli {

namespace {

// The stored names an argument denotes: its normalized reference when that
// name exists, else every name of the image ID it resolves to.
Result<std::vector<std::string>> names_for(const oci::Store& store, const std::string& arg) {
  TRY_ASSIGN(auto entries, store.entries());
  auto name_of = [](const oci::Descriptor& d) {
    auto it = d.annotations.find(std::string(oci::kRefNameAnnotation));
    return it == d.annotations.end() ? std::string() : it->second;
  };
  if (auto ref = oci::Reference::parse(arg))
    for (auto& d : entries)
      if (name_of(d) == ref->str()) return std::vector<std::string>{ref->str()};
  TRY_ASSIGN(auto target, store.resolve(arg));
  std::vector<std::string> out;
  for (auto& d : entries)
    if (d.digest == target.digest && !name_of(d).empty()) out.push_back(name_of(d));
  if (out.size() > 1)
    return fail("image ", arg, " has several names (", out.size(),
                "); remove them by name, or pass --force to remove them all");
  return out;
}

}  // namespace

KILN_COMMAND(tag) {
  static std::string source;
  static std::vector<std::string> targets;
  auto* cmd = add_command(app, g, "tag", "Add names to an image", [&g]() -> Status {
    std::vector<oci::Reference> refs;
    for (auto& t : targets) {
      TRY_ASSIGN(auto r, oci::Reference::parse(t));
      refs.push_back(std::move(r));
    }
    TRY_ASSIGN(auto store, open_store(g));
    TRY_ASSIGN(auto desc, store.resolve(source));
    desc.annotations.erase(std::string(oci::kRefNameAnnotation));
    return store.update_index([&](std::vector<oci::Descriptor>& list) -> Status {
      for (auto& r : refs) {
        std::erase_if(list, [&](const oci::Descriptor& d) {
          auto it = d.annotations.find(std::string(oci::kRefNameAnnotation));
          return it != d.annotations.end() && it->second == r.str();
        });
        oci::Descriptor named = desc;
        named.annotations[std::string(oci::kRefNameAnnotation)] = r.str();
        list.push_back(std::move(named));
      }
      return {};
    });
  });
  cmd->add_option("SOURCE", source, "Image name or ID")->required();
  cmd->add_option("TARGET", targets, "New names")->required();
}

KILN_COMMAND(rmi) {
  static std::vector<std::string> images;
  static bool force = false;
  auto* cmd = add_command(app, g, "rmi", "Remove images from the local store", [&g]() -> Status {
    TRY_ASSIGN(auto store, open_store(g));
    std::vector<std::string> names;
    for (auto& arg : images) {
      auto found = names_for(store, arg);
      if (!found && force && found.error().message.find("several names") != std::string::npos) {
        TRY_ASSIGN(auto target, store.resolve(arg));
        TRY_ASSIGN(auto entries, store.entries());
        for (auto& d : entries) {
          auto it = d.annotations.find(std::string(oci::kRefNameAnnotation));
          if (d.digest == target.digest && it != d.annotations.end()) names.push_back(it->second);
        }
        continue;
      }
      if (!found) return tl::unexpected(found.error());
      names.insert(names.end(), found->begin(), found->end());
    }
    TRY_ASSIGN(auto report, oci::remove_images(store, names));
    for (auto& n : names)
      print_line("Untagged: " + n);
    for (auto& d : report.blobs_removed)
      print_line("Deleted: " + d.str());
    return {};
  });
  cmd->add_option("IMAGE", images, "Image names or IDs")->required();
  cmd->add_flag("-f,--force", force, "Remove every name of an image given by ID");
}

KILN_COMMAND(fsck) {
  static std::string format = "text";
  auto* cmd =
      add_command(app, g, "fsck", "Verify every blob and reference in the store", [&g]() -> Status {
        TRY_ASSIGN(auto store, open_store(g));
        TRY_ASSIGN(auto report, oci::fsck(store));
        if (format == "json") {
          print_json({{"ok", report.problems.empty()},
                      {"images", report.images},
                      {"blobs_checked", report.blobs_checked},
                      {"problems", report.problems}});
        } else {
          for (auto& p : report.problems)
            print_line(p);
        }
        if (!report.problems.empty())
          return fail("fsck: ", report.problems.size(), " problem(s) in ", store.root().string());
        if (format != "json")
          print_line("ok: " + std::to_string(report.images) + " images, " +
                     std::to_string(report.blobs_checked) + " blobs verified");
        return {};
      });
  add_format_option(cmd, format);
}

KILN_COMMAND(prune) {
  static std::string format = "text";
  auto* cmd = add_command(app, g, "prune", "Remove blobs and unpacked layers no image uses",
                          [&g]() -> Status {
                            TRY_ASSIGN(auto store, open_store(g));
                            TRY_ASSIGN(auto report, oci::prune(store));
                            nlohmann::json blobs = nlohmann::json::array();
                            for (auto& d : report.blobs_removed)
                              blobs.push_back(d.str());
                            if (format == "json") {
                              print_json({{"blobs_removed", blobs},
                                          {"layers_removed", report.layers_removed},
                                          {"bytes_freed", report.bytes_freed}});
                            } else {
                              for (auto& b : blobs)
                                print_line("Deleted: " + b.get<std::string>());
                              print_line("Freed " + human_size(report.bytes_freed));
                            }
                            return {};
                          });
  add_format_option(cmd, format);
}

}  // namespace kiln::cli
