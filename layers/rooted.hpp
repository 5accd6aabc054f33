// RootDir: a directory treated as "/" for every path resolved inside it.
//
// Paths go through openat2(RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS), so "..",
// absolute symlinks and symlinked parents all stay inside the root (absolute
// symlinks in an image mean the image's root, as in a chroot). On kernels
// without openat2 an O_NOFOLLOW walk resolves links by hand with the same
// rules. Callers then act on the final component with *at() calls and
// AT_SYMLINK_NOFOLLOW, so nothing is ever written through a symlink.
// Thread-safe for concurrent lookups (no mutable state beyond the root fd).
#pragma once

#include <filesystem>
#include <functional>
#include <string>
#include <string_view>

#include "base/fd.hpp"
#include "base/result.hpp"

namespace kiln::layers {

class RootDir {
 public:
  static Result<RootDir> open(const std::filesystem::path& root);
  int fd() const { return fd_.get(); }
  const std::filesystem::path& path() const { return path_; }

  // A directory inside the root ("" is the root), as an O_PATH-free real fd.
  Result<Fd> open_dir(std::string_view rel) const;
  // The same, creating missing directories (mode 0755) on the way.
  Result<Fd> make_dirs(std::string_view rel) const;

  // Tests force the hand-written walk to check it matches openat2.
  static void force_manual_walk(bool on);

 private:
  RootDir(Fd fd, std::filesystem::path p) : fd_(std::move(fd)), path_(std::move(p)) {}
  Result<Fd> resolve(std::string_view rel) const;
  Fd fd_;
  std::filesystem::path path_;
};

// Removes child `name` of `dirfd`, recursively for directories, never following
// symlinks. A missing name is not an error.
Status remove_at(int dirfd, const std::string& name);

// Removes every child of `dirfd` for which keep(name) is false.
Status remove_children(int dirfd, const std::function<bool(const std::string&)>& keep);

}  // namespace kiln::layers
