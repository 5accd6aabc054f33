// Layers from partial change sets: the difference of two trees, and an
// explicit list of paths (COPY).
#include <map>

#include "layers/layer_sink.hpp"
#include "layers/tree_diff.hpp"
#include "layers/tree_emitter.hpp"
#include "layers/tree_walk.hpp"
#include "layers/writer.hpp"

namespace kiln::layers {

namespace {

// Emits changes in walk order. Directories on the way down are held back and
// written only when something beneath them changed, so the layer carries each
// changed entry's parents (with their metadata) and nothing else.
class DiffLayer : public DiffVisitor {
 public:
  explicit DiffLayer(TreeEmitter& em) : em_(em) {}

  Status removed(const std::string& path) override {
    TRY(parents());
    return em_.add_whiteout(path);
  }
  Status added(int ud, const std::string& name, const std::string& path) override {
    TRY(parents());
    return em_.add(ud, name, path, true);
  }
  Status changed(int ud, const std::string& name, const std::string& path, unsigned,
                 bool is_dir) override {
    TRY(parents());
    if (is_dir) {
      TRY(em_.add(ud, name, path, false));
      emitted_dir_ = path;
      return {};
    }
    // A type change replaces the old object whole (a new directory with all of
    // its contents: nothing of the old one lies below it).
    return em_.add(ud, name, path, true);
  }
  Status enter(int ud, const std::string& name, const std::string& path) override {
    stack_.push_back({ud, name, path, emitted_dir_ == path});
    return {};
  }
  Status leave(const std::string&) override {
    stack_.pop_back();
    return {};
  }

 private:
  struct Pending {
    int parent_fd;  // borrowed: the walker keeps it open while we are inside
    std::string name, path;
    bool emitted;
  };
  Status parents() {
    for (auto& p : stack_)
      if (!p.emitted) {
        TRY(em_.add(p.parent_fd, p.name, p.path, false));
        p.emitted = true;
      }
    return {};
  }
  TreeEmitter& em_;
  std::vector<Pending> stack_;
  std::string emitted_dir_;
};

struct LayerNameLess {
  bool operator()(const std::string& a, const std::string& b) const {
    return compare_layer_names(a, b) < 0;
  }
};

struct PathNode {
  std::map<std::string, PathNode, LayerNameLess> kids;
  bool whole = false;  // the path itself was asked for: everything under it goes in
};

Status emit_listed(TreeEmitter& em, const PathNode& node, int dirfd, const std::string& prefix) {
  for (auto& [name, kid] : node.kids) {
    std::string path = child_path(prefix, name);
    if (kid.whole) {
      TRY(em.add(dirfd, name, path, true));
      continue;
    }
    TRY(em.add(dirfd, name, path, false));
    auto sub = open_subdir(dirfd, name);
    if (!sub) return fail(path, ": not a directory (symlinked parents are not followed)");
    TRY(emit_listed(em, kid, sub->get(), path));
  }
  return {};
}

}  // namespace

Result<WrittenLayer> write_diff_layer(oci::Store& store, const std::filesystem::path& lower,
                                      const std::filesystem::path& upper,
                                      const LayerOptions& opts) {
  TRY_ASSIGN(auto sink, LayerSink::open(store, opts));
  TRY_ASSIGN(auto tw, TarWriter::open(sink->tar_stream()));
  TreeEmitter em(*tw, opts, WalkMode::plain);
  DiffLayer v(em);
  TRY_CTX(walk_diff(lower, upper, v), upper.string());
  TRY(tw->finish());
  return sink->commit();
}

Result<WrittenLayer> write_list_layer(oci::Store& store, const std::filesystem::path& root,
                                      const std::vector<std::string>& paths,
                                      const LayerOptions& opts) {
  PathNode top;
  for (auto& raw : paths) {
    TRY_ASSIGN(std::string p, clean_layer_path(raw));
    PathNode* n = &top;
    size_t i = 0;
    while (i <= p.size()) {
      size_t j = p.find('/', i);
      if (j == std::string::npos) j = p.size();
      n = &n->kids[p.substr(i, j - i)];
      i = j + 1;
    }
    n->whole = true;
  }
  TRY_ASSIGN(Fd rootfd, open_root_dir(root.string()));
  TRY_ASSIGN(auto sink, LayerSink::open(store, opts));
  TRY_ASSIGN(auto tw, TarWriter::open(sink->tar_stream()));
  TreeEmitter em(*tw, opts, WalkMode::plain);
  TRY_CTX(emit_listed(em, top, rootfd.get(), ""), root.string());
  TRY(tw->finish());
  return sink->commit();
}

}  // namespace kiln::layers
