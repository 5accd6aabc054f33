// Finding and loading the ignore file of a build.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

#include "base/fd.hpp"
#include "parser/ignore.hpp"

namespace kiln::parser {

namespace fs = std::filesystem;

namespace {

bool is_regular(const fs::path& p) {
  struct stat st;
  return ::stat(p.c_str(), &st) == 0 && S_ISREG(st.st_mode);
}

Result<std::string> slurp(const fs::path& p) {
  Fd fd(::open(p.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd) return fail_errno(errno, "open " + p.string());
  std::string out;
  char buf[65536];
  for (;;) {
    ssize_t n = ::read(fd.get(), buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) continue;
      return fail_errno(errno, "read " + p.string());
    }
    if (n == 0) break;
    out.append(buf, static_cast<size_t>(n));
    if (out.size() > (64u << 20)) return fail(p.string(), ": ignore file larger than 64 MiB");
  }
  return out;
}

}  // namespace

std::optional<fs::path> find_ignore_file(const fs::path& context, const fs::path& containerfile) {
  if (!containerfile.empty()) {
    for (const char* ext : {".containerignore", ".dockerignore"}) {
      fs::path beside = containerfile;
      beside += ext;
      if (is_regular(beside)) return beside;
    }
  }
  for (const char* name : {".containerignore", ".dockerignore"}) {
    fs::path p = context / name;
    if (is_regular(p)) return p;
  }
  return std::nullopt;
}

Result<IgnoreMatcher> load_ignore_file(const fs::path& context, const fs::path& containerfile,
                                       std::string* used) {
  auto file = find_ignore_file(context, containerfile);
  if (used) *used = file ? file->string() : "";
  if (!file) return IgnoreMatcher();
  TRY_ASSIGN(std::string text, slurp(*file));
  return IgnoreMatcher::create(read_ignore_lines(text), file->string());
}

}  // namespace kiln::parser
