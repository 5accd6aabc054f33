#include "layers/tree_diff.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>

#include "layers/tree_emitter.hpp"
#include "layers/tree_walk.hpp"

namespace kiln::layers {

std::vector<std::string> diff_bit_names(unsigned bits) {
  static const char* names[] = {"type", "content", "mode", "owner", "link", "xattrs", "mtime"};
  std::vector<std::string> out;
  for (unsigned i = 0; i < 7; ++i)
    if (bits & (1u << i)) out.emplace_back(names[i]);
  return out;
}

namespace {

Result<bool> same_bytes(int afd, int bfd, const std::string& path) {
  std::vector<char> a(1 << 18), b(1 << 18);
  for (off_t off = 0;;) {
    ssize_t na = ::pread(afd, a.data(), a.size(), off);
    ssize_t nb = ::pread(bfd, b.data(), b.size(), off);
    if (na < 0 || nb < 0) return fail_errno(errno, "read " + path);
    if (na != nb || std::memcmp(a.data(), b.data(), static_cast<size_t>(na)) != 0) return false;
    if (na == 0) return true;
    off += na;
  }
}

class Walker {
 public:
  Walker(DiffVisitor& v, unsigned ignore) : v_(v), ignore_(ignore) {}

  Result<unsigned> compare(int ld, int ud, const std::string& name, const std::string& path,
                           const struct stat& ls, const struct stat& us) {
    unsigned bits = 0;
    if ((ls.st_mode & S_IFMT) != (us.st_mode & S_IFMT)) return kDiffType;
    if ((ls.st_mode & 07777) != (us.st_mode & 07777)) bits |= kDiffMode;
    if (ls.st_uid != us.st_uid || ls.st_gid != us.st_gid) bits |= kDiffOwner;
    if (!S_ISLNK(us.st_mode) &&
        (ls.st_mtim.tv_sec != us.st_mtim.tv_sec || ls.st_mtim.tv_nsec != us.st_mtim.tv_nsec))
      bits |= kDiffMtime;
    if ((S_ISCHR(us.st_mode) || S_ISBLK(us.st_mode)) && ls.st_rdev != us.st_rdev) bits |= kDiffLink;
    if (S_ISLNK(us.st_mode)) {
      bool ok = true;
      TRY_ASSIGN(TarEntry le, entry_from_stat(ld, name, ls, path, ok));
      TRY_ASSIGN(TarEntry ue, entry_from_stat(ud, name, us, path, ok));
      if (le.link != ue.link) bits |= kDiffLink;
    }
    if (S_ISREG(us.st_mode) && !(ignore_ & kDiffContent)) {
      if (ls.st_size != us.st_size) {
        bits |= kDiffContent;
      } else {
        Fd lf(::openat(ld, name.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK));
        Fd uf(::openat(ud, name.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK));
        if (!lf || !uf) return fail_errno(errno, "open " + path);
        TRY_ASSIGN(bool same, same_bytes(lf.get(), uf.get(), path));
        if (!same) bits |= kDiffContent;
      }
    }
    if (!(ignore_ & kDiffXattrs)) {
      TRY_ASSIGN(auto lx, read_xattrs(ld, name, -1));
      TRY_ASSIGN(auto ux, read_xattrs(ud, name, -1));
      if (lx != ux) bits |= kDiffXattrs;
    }
    return bits & ~ignore_;
  }

  Status walk(int ld, int ud, const std::string& prefix) {
    TRY_ASSIGN(auto lnames, list_dir(ld));
    TRY_ASSIGN(auto unames, list_dir(ud));
    // Merged in layer order, a removed name keyed by its whiteout's name: the
    // visitor then meets everything in the order the layer lists it.
    struct Item {
      std::string key;
      const std::string* name;
      int side;  // -1 lower only, 1 upper only, 0 both
    };
    std::vector<Item> items;
    size_t i = 0, j = 0;
    while (i < lnames.size() || j < unames.size()) {
      int order = i == lnames.size()   ? 1
                  : j == unames.size() ? -1
                                       : compare_layer_names(lnames[i], unames[j]);
      if (order < 0) {
        items.push_back({std::string(kWhiteoutPrefix) + lnames[i], &lnames[i], -1});
        ++i;
      } else {
        items.push_back({{}, &unames[j], order > 0 ? 1 : 0});
        if (order == 0) ++i;
        ++j;
      }
    }
    std::stable_sort(items.begin(), items.end(), [](const Item& a, const Item& b) {
      return compare_layer_names(a.side < 0 ? a.key : *a.name, b.side < 0 ? b.key : *b.name) < 0;
    });
    for (auto& it : items) {
      const std::string& n = *it.name;
      if (it.side < 0) {
        TRY(v_.removed(child_path(prefix, n)));
        continue;
      }
      if (it.side > 0) {
        TRY(v_.added(ud, n, child_path(prefix, n)));
        continue;
      }
      std::string path = child_path(prefix, n);
      struct stat ls, us;
      if (::fstatat(ld, n.c_str(), &ls, AT_SYMLINK_NOFOLLOW) != 0 ||
          ::fstatat(ud, n.c_str(), &us, AT_SYMLINK_NOFOLLOW) != 0)
        return fail_errno(errno, "stat " + path);
      TRY_ASSIGN(unsigned bits, compare(ld, ud, n, path, ls, us));
      bool both_dirs = S_ISDIR(ls.st_mode) && S_ISDIR(us.st_mode);
      if (bits) TRY(v_.changed(ud, n, path, bits, both_dirs));
      if (both_dirs) {
        TRY_ASSIGN(Fd lsub, open_subdir(ld, n));
        TRY_ASSIGN(Fd usub, open_subdir(ud, n));
        TRY(v_.enter(ud, n, path));
        TRY(walk(lsub.get(), usub.get(), path));
        TRY(v_.leave(path));
      }
    }
    return {};
  }

 private:
  DiffVisitor& v_;
  unsigned ignore_;
};

class Collector : public DiffVisitor {
 public:
  std::vector<TreeChange> out;
  Status removed(const std::string& path) override {
    out.push_back({path, 'D', 0});
    return {};
  }
  Status added(int, const std::string&, const std::string& path) override {
    out.push_back({path, 'A', 0});
    return {};
  }
  Status changed(int, const std::string&, const std::string& path, unsigned bits, bool) override {
    out.push_back({path, 'M', bits});
    return {};
  }
};

}  // namespace

Status walk_diff(const std::filesystem::path& lower, const std::filesystem::path& upper,
                 DiffVisitor& v, unsigned ignore) {
  TRY_ASSIGN(Fd l, open_root_dir(lower.string()));
  TRY_ASSIGN(Fd u, open_root_dir(upper.string()));
  Walker w(v, ignore);
  return w.walk(l.get(), u.get(), "");
}

Result<std::vector<TreeChange>> diff_trees(const std::filesystem::path& a,
                                           const std::filesystem::path& b) {
  Collector c;
  TRY(walk_diff(a, b, c, kDiffMtime));
  // Listed by path (the walk puts removals first in each directory).
  std::stable_sort(c.out.begin(), c.out.end(), [](const TreeChange& x, const TreeChange& y) {
    return layer_path_less(x.path, y.path);
  });
  return std::move(c.out);
}

}  // namespace kiln::layers
