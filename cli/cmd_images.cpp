// kiln images: the named images in the local store.
#include "base/log.hpp"
#include "cli/command.hpp"
#include "cli/format.hpp"
#include "oci/media_types.hpp"
#include "oci/reference.hpp"

namespace kiln::cli {

namespace {

struct Row {
  std::string name, digest, id, created;
  int64_t size = 0;
  oci::Reference ref;
};

Result<std::vector<Row>> list_images(const oci::Store& store) {
  TRY_ASSIGN(auto entries, store.entries());
  std::vector<Row> rows;
  for (auto& d : entries) {
    auto it = d.annotations.find(std::string(oci::kRefNameAnnotation));
    if (it == d.annotations.end()) continue;
    Row row;
    row.name = it->second;
    row.digest = d.digest.str();
    if (auto ref = oci::Reference::parse(row.name)) row.ref = *ref;
    auto image = store.load_descriptor(d, row.name);
    if (!image) {
      // Still listed (so it can be removed by name), with what is wrong on stderr.
      log_warn("image " + row.name + ": " + image.error().what());
      rows.push_back(std::move(row));
      continue;
    }
    row.id = image->manifest.config().digest.str();
    row.created = image->config.created();
    row.size = image->manifest.config().size;
    for (auto& l : image->manifest.layers())
      row.size += l.size;
    rows.push_back(std::move(row));
  }
  std::sort(rows.begin(), rows.end(), [](auto& a, auto& b) { return a.name < b.name; });
  return rows;
}

}  // namespace

KILN_COMMAND(images) {
  static std::string format = "text";
  auto* cmd = add_command(app, g, "images", "List images in the local store", [&g]() -> Status {
    TRY_ASSIGN(auto store, open_store(g));
    TRY_ASSIGN(auto rows, list_images(store));
    if (format == "json") {
      nlohmann::json out = nlohmann::json::array();
      for (auto& r : rows)
        out.push_back({{"name", r.name},
                       {"repository", r.ref.name()},
                       {"tag", r.ref.tag},
                       {"digest", r.digest},
                       {"id", r.id},
                       {"created", r.created},
                       {"size", r.size}});
      print_json(out);
      return {};
    }
    std::vector<std::vector<std::string>> table = {
        {"REPOSITORY", "TAG", "IMAGE ID", "CREATED", "SIZE"}};
    for (auto& r : rows)
      table.push_back({r.ref.name(), r.ref.tag.empty() ? "<none>" : r.ref.tag,
                       r.id.empty() ? "-" : r.id.substr(7, 12), r.created.empty() ? "-" : r.created,
                       r.id.empty() ? "-" : human_size(r.size)});
    print_table(table);
    return {};
  });
  add_format_option(cmd, format);
}

}  // namespace kiln::cli
