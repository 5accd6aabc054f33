#include "parser/context_walk.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

#include "base/fd.hpp"

namespace kiln::parser {

const char* entry_type_name(ContextEntry::Type t) {
  switch (t) {
    case ContextEntry::Type::file:
      return "file";
    case ContextEntry::Type::dir:
      return "dir";
    case ContextEntry::Type::symlink:
      return "symlink";
    case ContextEntry::Type::other:
      return "other";
  }
  return "other";
}

namespace {

ContextEntry::Type type_of(mode_t m) {
  if (S_ISREG(m)) return ContextEntry::Type::file;
  if (S_ISDIR(m)) return ContextEntry::Type::dir;
  if (S_ISLNK(m)) return ContextEntry::Type::symlink;
  return ContextEntry::Type::other;
}

struct Walker {
  const IgnoreMatcher& ignore;
  WalkStats stats;
  std::vector<ContextEntry> out;
  // Directories entered but not listed yet (excluded, read for exceptions):
  // listed only if something inside is included.
  std::vector<ContextEntry> pending;

  struct Name {
    std::string name;
    unsigned char type;  // d_type: DT_DIR, DT_REG, ... or DT_UNKNOWN
    bool operator<(const Name& o) const { return name < o.name; }
  };

  Result<std::vector<Name>> names(int dirfd, const std::string& where) {
    int dup = ::fcntl(dirfd, F_DUPFD_CLOEXEC, 0);
    if (dup < 0) return fail_errno(errno, "read directory " + where);
    DIR* d = ::fdopendir(dup);
    if (!d) {
      int e = errno;
      ::close(dup);
      return fail_errno(e, "read directory " + where);
    }
    std::vector<Name> list;
    errno = 0;
    while (dirent* e = ::readdir(d)) {
      std::string_view n = e->d_name;
      if (n != "." && n != "..") list.push_back({std::string(n), e->d_type});
    }
    int err = errno;
    ::closedir(d);
    if (err) return fail_errno(err, "read directory " + where);
    std::sort(list.begin(), list.end());
    return list;
  }

  Status walk(int dirfd, const std::string& prefix, const IgnoreMatcher::PerPattern& parent,
              size_t depth) {
    if (depth > 4096) return fail("context is nested too deeply at ", prefix);
    TRY_ASSIGN(std::vector<Name> list, names(dirfd, prefix.empty() ? "." : prefix));
    IgnoreMatcher::PerPattern mine;
    for (const Name& n : list) {
      const std::string& name = n.name;
      ++stats.entries_seen;
      std::string path = prefix.empty() ? name : prefix + "/" + name;
      bool excluded = false;
      if (!ignore.empty()) {
        ++stats.checks;
        excluded = ignore.matches(path, parent, mine);
      }
      // Excluded files need no stat; the directory entry type says enough.
      if (excluded && n.type != DT_DIR && n.type != DT_UNKNOWN) continue;
      struct stat st;
      if (::fstatat(dirfd, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
        if (errno == ENOENT) continue;
        return fail_errno(errno, "stat " + path);
      }
      ContextEntry entry{path, type_of(st.st_mode), static_cast<uint64_t>(st.st_size), st.st_mode};
      const bool is_dir = S_ISDIR(st.st_mode);
      if (excluded && !(is_dir && ignore.must_descend(path))) {
        if (is_dir) ++stats.dirs_skipped;
        continue;
      }
      if (!excluded) {
        for (ContextEntry& p : pending)
          out.push_back(std::move(p));
        pending.clear();
        out.push_back(entry);
      }
      if (!is_dir) continue;
      Fd sub(::openat(dirfd, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
      if (!sub) {
        if (errno == ENOENT) continue;
        if (excluded && errno == EACCES) continue;  // BuildKit skips unreadable excluded dirs
        return fail_errno(errno, "open directory " + path);
      }
      size_t pending_before = pending.size();
      if (excluded) pending.push_back(entry);
      IgnoreMatcher::PerPattern child = mine;
      TRY(walk(sub.get(), path, child, depth + 1));
      if (excluded && pending.size() > pending_before) pending.resize(pending_before);
    }
    return {};
  }
};

}  // namespace

Result<std::vector<ContextEntry>> walk_context(const std::filesystem::path& root,
                                               const IgnoreMatcher& ignore, WalkStats* stats) {
  Fd fd(::open(root.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!fd) return fail_errno(errno, "open context " + root.string());
  Walker w{ignore, {}, {}, {}};
  TRY(w.walk(fd.get(), "", {}, 0));
  if (stats) *stats = w.stats;
  return std::move(w.out);
}

}  // namespace kiln::parser
