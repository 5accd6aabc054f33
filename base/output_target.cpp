#include "base/output_target.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

namespace kiln {

namespace fs = std::filesystem;

namespace {

// The name a dangling symlink (or chain of them) points at, which writing
// through the link creates; `path` itself when it is no symlink.
Result<fs::path> follow_dangling(fs::path path) {
  for (int hops = 0; hops < 40; ++hops) {
    std::error_code ec;
    fs::path link = fs::read_symlink(path, ec);
    if (ec) return path;
    path = link.is_absolute() ? link : path.parent_path() / link;
  }
  return fail(path.string(), ": too many levels of symbolic links");
}

fs::path temp_dir() {
  std::error_code ec;
  fs::path p = fs::temp_directory_path(ec);
  return ec ? fs::path("/tmp") : p;
}

}  // namespace

Result<OutputTarget> OutputTarget::open(const fs::path& path) {
  OutputTarget t;
  if (path == "-") {
    t.scratch_dir_ = temp_dir();
    return t;
  }
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) {
    if (errno != ENOENT) return fail_errno(errno, path.string());
    TRY_ASSIGN(fs::path name, follow_dangling(path));
    TRY_ASSIGN(auto file, AtomicFile::create(name));
    t.scratch_dir_ = file.temp_path().parent_path();
    t.file_.emplace(std::move(file));
    return t;
  }
  if (S_ISDIR(st.st_mode)) return fail(path.string(), ": is a directory");
  if (!S_ISREG(st.st_mode)) {
    TRY_ASSIGN(t.in_place_, open_file(path, O_WRONLY | O_NOCTTY));
    t.scratch_dir_ = temp_dir();
    return t;
  }
  std::error_code ec;
  fs::path name = fs::canonical(path, ec);
  if (ec) return fail(path.string(), ": ", ec.message());
  TRY_ASSIGN(auto file, AtomicFile::create(name, st.st_mode & 07777));
  // The owner before the mode: chown clears set-id bits.
  if ((st.st_uid != ::geteuid() || st.st_gid != ::getegid()) &&
      ::fchown(file.fd(), st.st_uid, st.st_gid) != 0) {
    // Only root may give a file away, and others may only pick one of their
    // groups: the file is then the caller's, as a new file would be.
  }
  // open() applied the umask; the replaced file's bits are kept exactly.
  if (::fchmod(file.fd(), st.st_mode & 07777) != 0)
    return fail_errno(errno, "chmod " + file.temp_path().string());
  t.scratch_dir_ = file.temp_path().parent_path();
  t.file_.emplace(std::move(file));
  return t;
}

Status OutputTarget::write(std::span<const std::byte> data) {
  if (file_) return file_->write(data);
  return FdWriter(in_place_ ? in_place_.get() : STDOUT_FILENO).write(data);
}

Status OutputTarget::commit() {
  if (file_) return file_->commit();
  in_place_.reset();
  return {};
}

}  // namespace kiln
