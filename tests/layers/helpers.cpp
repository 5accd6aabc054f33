#include "tests/layers/helpers.hpp"

#include <sys/stat.h>

#include <algorithm>
#include <sstream>
#include <vector>

namespace kiln::test {

namespace fs = std::filesystem;

std::string snapshot(const fs::path& root) {
  std::vector<std::string> lines;
  std::error_code ec;
  for (auto it = fs::recursive_directory_iterator(root, ec);
       !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
    struct stat st;
    if (::lstat(it->path().c_str(), &st) != 0) continue;
    std::ostringstream l;
    l << fs::relative(it->path(), root).string() << " " << std::oct << st.st_mode << std::dec << " "
      << (S_ISDIR(st.st_mode) ? 0 : st.st_size);
    lines.push_back(l.str());
  }
  std::sort(lines.begin(), lines.end());
  std::string out;
  for (auto& l : lines)
    out += l + "\n";
  return out;
}

void make_busybox_rootfs(const fs::path& dir) {
  fs::create_directories(dir / "bin");
  fs::create_directories(dir / "etc");
  fs::create_directories(dir / "tmp");
  if (fs::exists("/bin/busybox"))
    fs::copy_file("/bin/busybox", dir / "bin/busybox");
  else
    write_text(dir / "bin/busybox", "#!/bin/false\n");
  fs::permissions(dir / "bin/busybox", fs::perms(0755));
  for (const char* applet : {"sh", "ls", "cat", "echo"})
    fs::create_symlink("busybox", dir / "bin" / applet);
  write_text(dir / "etc/passwd", "root:x:0:0:root:/root:/bin/sh\n");
  write_text(dir / "etc/motd", "hello from kiln\n");
  fs::permissions(dir / "tmp", fs::perms(01777));
}

RunResult kiln(const fs::path& store, std::vector<std::string> args) {
  args.insert(args.begin(), {kiln_bin(), "--root", store.string()});
  return run(args);
}

}  // namespace kiln::test

#include <sys/sysmacros.h>
#include <sys/xattr.h>

#include "base/sha256.hpp"

namespace kiln::test {

std::string describe_tree(const fs::path& root, bool mtimes) {
  std::vector<std::string> lines;
  std::error_code ec;
  for (auto it = fs::recursive_directory_iterator(root, ec);
       !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
    struct stat st;
    const fs::path& p = it->path();
    if (::lstat(p.c_str(), &st) != 0) continue;
    std::ostringstream l;
    l << fs::relative(p, root).string() << " ";
    switch (st.st_mode & S_IFMT) {
      case S_IFREG:
        l << "file " << st.st_size << " " << kiln::Sha256::hex_of(read_text(p)).substr(0, 16);
        break;
      case S_IFDIR:
        l << "dir";
        break;
      case S_IFLNK:
        l << "symlink -> " << fs::read_symlink(p).string();
        break;
      case S_IFCHR:
      case S_IFBLK:
        l << (S_ISCHR(st.st_mode) ? "chr " : "blk ") << major(st.st_rdev) << ","
          << minor(st.st_rdev);
        break;
      case S_IFIFO:
        l << "fifo";
        break;
      default:
        l << "other";
    }
    l << " " << std::oct << (st.st_mode & 07777) << std::dec << " " << st.st_uid << ":"
      << st.st_gid;
    if (S_ISREG(st.st_mode) && st.st_nlink > 1) l << " nlink=" << st.st_nlink;
    char names[4096];
    ssize_t n = ::llistxattr(p.c_str(), names, sizeof names);
    std::vector<std::string> xs;
    for (ssize_t i = 0; i < n;) {
      std::string key = names + i;
      i += static_cast<ssize_t>(key.size()) + 1;
      if (key.starts_with("system.") || key == "security.selinux") continue;
      char v[1024];
      ssize_t vn = ::lgetxattr(p.c_str(), key.c_str(), v, sizeof v);
      xs.push_back(key + "=" + std::string(v, vn > 0 ? static_cast<size_t>(vn) : 0));
    }
    std::sort(xs.begin(), xs.end());
    for (auto& x : xs)
      l << " xattr:" << x;
    if (mtimes && !S_ISLNK(st.st_mode))
      l << " mtime=" << st.st_mtim.tv_sec << "." << st.st_mtim.tv_nsec;
    lines.push_back(l.str());
  }
  std::sort(lines.begin(), lines.end());
  std::string out;
  for (auto& l : lines)
    out += l + "\n";
  return out;
}

}  // namespace kiln::test
