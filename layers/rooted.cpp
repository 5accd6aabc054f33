#include "layers/rooted.hpp"

#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <vector>

#include "layers/tree_walk.hpp"

namespace kiln::layers {

namespace {

std::atomic<bool> g_manual{false};
constexpr int kMaxLinks = 40;  // the kernel's own limit on symlink hops

int sys_openat2(int dirfd, const char* path, int flags) {
  open_how how{};
  how.flags = static_cast<uint64_t>(flags);
  how.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS;
  for (;;) {
    long fd = ::syscall(SYS_openat2, dirfd, path, &how, sizeof how);
    if (fd >= 0 || errno != EAGAIN) return static_cast<int>(fd);
    // EAGAIN: a concurrent rename raced the lookup; it is safe to retry.
  }
}

std::vector<std::string> split(std::string_view p) {
  std::vector<std::string> out;
  size_t i = 0;
  while (i <= p.size()) {
    size_t j = p.find('/', i);
    if (j == std::string_view::npos) j = p.size();
    if (j > i) out.emplace_back(p.substr(i, j - i));
    i = j + 1;
  }
  return out;
}

// Resolution by hand: each component opened O_NOFOLLOW from its parent's fd;
// symlinks are read and spliced into the remaining path, absolute ones
// restarting from the root, and ".." never climbs above the root.
Result<Fd> manual_walk(int root, std::string_view rel) {
  std::vector<std::string> todo = split(rel);
  std::reverse(todo.begin(), todo.end());  // a stack: back() is next
  std::vector<Fd> stack;                   // fds of the directories walked into
  auto current = [&] { return stack.empty() ? root : stack.back().get(); };
  int hops = 0;
  while (!todo.empty()) {
    std::string c = std::move(todo.back());
    todo.pop_back();
    if (c == ".") continue;
    if (c == "..") {
      if (!stack.empty()) stack.pop_back();
      continue;
    }
    int fd = ::openat(current(), c.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd >= 0) {
      stack.emplace_back(fd);
      continue;
    }
    if (errno != ELOOP && errno != ENOTDIR) return fail_errno(errno, std::string(rel));
    struct stat st;
    if (::fstatat(current(), c.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0 || !S_ISLNK(st.st_mode))
      return fail_errno(ENOTDIR, std::string(rel));
    if (++hops > kMaxLinks) return fail_errno(ELOOP, std::string(rel));
    std::string target(4096, '\0');
    ssize_t n = ::readlinkat(current(), c.c_str(), target.data(), target.size());
    if (n < 0) return fail_errno(errno, std::string(rel));
    target.resize(static_cast<size_t>(n));
    auto parts = split(target);
    for (auto it = parts.rbegin(); it != parts.rend(); ++it)
      todo.push_back(*it);
    if (!target.empty() && target[0] == '/') stack.clear();
  }
  int fd = ::openat(current(), ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return fail_errno(errno, std::string(rel));
  return Fd(fd);
}

}  // namespace

void RootDir::force_manual_walk(bool on) {
  g_manual = on;
}

Result<RootDir> RootDir::open(const std::filesystem::path& root) {
  int fd = ::open(root.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return fail_errno(errno, root.string());
  return RootDir(Fd(fd), root);
}

Result<Fd> RootDir::resolve(std::string_view rel) const {
  if (!g_manual) {
    std::string p = rel.empty() ? std::string(".") : std::string(rel);
    int fd = sys_openat2(fd_.get(), p.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd >= 0) return Fd(fd);
    if (errno != ENOSYS) return fail_errno(errno, p);
  }
  return manual_walk(fd_.get(), rel);
}

Result<Fd> RootDir::open_dir(std::string_view rel) const {
  return resolve(rel);
}

Result<Fd> RootDir::make_dirs(std::string_view rel) const {
  auto direct = resolve(rel);
  if (direct || direct.error().sys_errno != ENOENT) return direct;
  // Walk down from the deepest existing ancestor, creating each missing level.
  // Each level is re-resolved from the root, so symlinks met on the way are
  // still confined.
  std::vector<std::string> parts = split(rel);
  std::string prefix;
  Fd parent;
  TRY_ASSIGN(parent, resolve(""));
  for (auto& part : parts) {
    std::string next = prefix.empty() ? part : prefix + "/" + part;
    auto fd = resolve(next);
    if (!fd) {
      if (fd.error().sys_errno != ENOENT) return fd;
      if (::mkdirat(parent.get(), part.c_str(), 0755) != 0 && errno != EEXIST)
        return fail_errno(errno, "mkdir " + next);
      TRY_ASSIGN(fd, resolve(next));
    }
    parent = std::move(*fd);
    prefix = std::move(next);
  }
  return parent;
}

Status remove_at(int dirfd, const std::string& name) {
  struct stat st;
  if (::fstatat(dirfd, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
    if (errno == ENOENT) return {};
    return fail_errno(errno, "stat " + name);
  }
  if (S_ISDIR(st.st_mode)) {
    TRY_ASSIGN(Fd sub, open_subdir(dirfd, name));
    TRY(remove_children(sub.get(), [](const std::string&) { return false; }));
    if (::unlinkat(dirfd, name.c_str(), AT_REMOVEDIR) != 0 && errno != ENOENT)
      return fail_errno(errno, "remove " + name);
    return {};
  }
  if (::unlinkat(dirfd, name.c_str(), 0) != 0 && errno != ENOENT)
    return fail_errno(errno, "remove " + name);
  return {};
}

Status remove_children(int dirfd, const std::function<bool(const std::string&)>& keep) {
  TRY_ASSIGN(auto names, list_dir(dirfd));
  for (auto& n : names)
    if (!keep(n)) TRY(remove_at(dirfd, n));
  return {};
}

}  // namespace kiln::layers
