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
    l << it->path().lexically_relative(root).string() << " " << std::oct << st.st_mode << std::dec
      << " " << (S_ISDIR(st.st_mode) ? 0 : st.st_size);
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
    l << p.lexically_relative(root).string() << " ";
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

#include <fcntl.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <unistd.h>
#include <cstring>

#include "base/files.hpp"
#include "layers/compression.hpp"
#include "layers/tar_reader.hpp"

namespace kiln::test {

void make_rich_tree(const fs::path& d) {
  auto ok = [](const std::string& cmd) {
    auto r = sh(cmd);
    EXPECT_EQ(r.status, 0) << cmd << ": " << r.err;
  };
  bool root = ::geteuid() == 0;
  fs::create_directories(d / "a/b/c");
  fs::create_directories(d / "empty");
  fs::create_directories(d / "sticky");
  write_text(d / "a/file", "hello layers\n");
  write_text(d / "a/b/exec", "#!/bin/sh\necho hi\n");
  write_text(d / "setuid", "s");
  write_text(d / "setgid", "g");
  write_text(d / "caf\xc3\xa9 with space", "utf8");
  std::string longname(180, 'L');
  write_text(d / "a/b/c" / longname, "long");
  std::string q = "'" + d.string() + "'";
  ok("cd " + q + " && chmod 0755 a/b/exec && chmod 4755 setuid && chmod 2755 setgid" +
     " && chmod 1777 sticky && chmod 0700 empty && chmod 0640 a/file");
  fs::create_symlink("file", d / "a/rel-link");
  fs::create_symlink("/a/file", d / "abs-link");
  fs::create_symlink("/nowhere/at/all", d / "dangling");
  fs::create_hard_link(d / "a/file", d / "hard1");
  fs::create_hard_link(d / "a/file", d / "a/b/hard2");
  ok("mkfifo " + q + "/fifo");
  ok("truncate -s 4M " + q + "/sparse && printf middle | dd of=" + q +
     "/sparse bs=1 seek=2097152 conv=notrunc status=none");
  ok("setfattr -n user.kiln -v hello " + q + "/a/file || python3 -c \"import os; os.setxattr('" +
     d.string() + "/a/file', 'user.kiln', b'hello')\"");
  if (root) {
    ok("chown 1000:1001 " + q + "/a/file " + q + "/a/b");
    ok("chown -h 7:8 " + q + "/a/rel-link");
    ok("mknod " + q + "/null c 1 3 && mknod " + q + "/loop b 7 200 && chmod 0666 " + q + "/null");
    ok("setcap cap_net_raw+ep " + q + "/a/b/exec");
  }
  // A socket: layers cannot carry it, so writers skip it.
  int s = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::string sp = (d / "sock").string();
  if (sp.size() < sizeof addr.sun_path) {
    std::memcpy(addr.sun_path, sp.c_str(), sp.size() + 1);
    ::bind(s, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  }
  ::close(s);
  // Nanosecond mtimes, directories last (creating children touches them).
  ok("cd " + q + " && find . -mindepth 1 ! -type d ! -type l ! -name sock" +
     " -exec touch -m -d '2021-05-06 07:08:09.123456789' {} + && find . -mindepth 1 -type d" +
     " -exec touch -m -d '2020-01-02 03:04:05.987654321' {} +");
}

std::vector<std::string> layer_paths(const fs::path& blob) {
  std::vector<std::string> out;
  auto fd = open_file(blob, O_RDONLY | O_CLOEXEC);
  EXPECT_TRUE(fd.has_value());
  FdReader in(std::move(*fd));
  auto plain = layers::make_decompressor(in, blob.string());
  auto tr = layers::TarReader::open(*plain, blob.string());
  EXPECT_TRUE(tr.has_value());
  for (;;) {
    auto e = (*tr)->next();
    EXPECT_TRUE(e.has_value()) << e.error().what();
    if (!e || !*e) break;
    out.push_back((*e)->path);
  }
  return out;
}

}  // namespace kiln::test
