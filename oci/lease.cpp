#include "oci/lease.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <random>

namespace kiln::oci {

namespace {

std::string random_name() {
  static thread_local std::mt19937_64 rng{std::random_device{}()};
  static const char* hex = "0123456789abcdef";
  std::string s(16, '0');
  for (auto& c : s)
    c = hex[rng() % 16];
  return s;
}

Status write_all(int fd, std::string_view text, const std::string& shown) {
  while (!text.empty()) {
    ssize_t n = ::write(fd, text.data(), text.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return fail_errno(errno, "write " + shown);
    text.remove_prefix(static_cast<size_t>(n));
  }
  return {};
}

}  // namespace

Result<Lease> Lease::create(const Store& store, std::string_view purpose) {
  TRY_ASSIGN(Fd dir, store.state_dir("leases"));
  TRY_ASSIGN(Fd tmp, store.state_dir("tmp"));
  std::string name = random_name(), temp = ".lease-" + name;
  const std::string shown = (store.kiln_dir() / "leases" / name).string();
  Fd fd(::openat(tmp.get(), temp.c_str(),
                 O_RDWR | O_CREAT | O_EXCL | O_APPEND | O_NOFOLLOW | O_CLOEXEC, 0600));
  if (!fd) return fail_errno(errno, "create lease " + shown);
  // Locked before it is visible in leases/: an unlocked lease there is dead.
  if (::flock(fd.get(), LOCK_EX) != 0 ||
      ::renameat(tmp.get(), temp.c_str(), dir.get(), name.c_str()) != 0) {
    int err = errno;
    ::unlinkat(tmp.get(), temp.c_str(), 0);
    return fail_errno(err, "create lease " + shown);
  }
  Lease lease(store, std::move(dir), std::move(fd), std::move(name));
  std::string line = "# " + std::string(purpose.substr(0, purpose.find('\n'))) + "\n";
  TRY(write_all(lease.fd_.get(), line, shown));
  return lease;
}

Lease& Lease::operator=(Lease&& o) noexcept {
  if (this != &o) {
    release();
    store_ = std::move(o.store_);
    dir_ = std::move(o.dir_);
    fd_ = std::move(o.fd_);
    name_ = std::move(o.name_);
  }
  return *this;
}

Status Lease::add(const LeaseNames& names) {
  if (!fd_) return fail("lease ", name_, " was released");
  std::string lines;
  for (auto& d : names.blobs)
    lines += "blob " + d.str() + "\n";
  for (auto& hex : names.layers)
    lines += "layer " + hex + "\n";
  // Under the store lock: a prune in progress finishes first, a later one
  // reads these lines (see the header).
  TRY_ASSIGN(auto held, store_.lock());
  return write_all(fd_.get(), lines, (store_.kiln_dir() / "leases" / name_).string());
}

void Lease::release() {
  if (!fd_) return;
  // Unlinked while still locked, so no prune ever sees this file unlocked.
  ::unlinkat(dir_.get(), name_.c_str(), 0);
  fd_.reset();
  dir_.reset();
}

LeaseNames parse_lease(std::string_view text) {
  LeaseNames out;
  while (!text.empty()) {
    size_t end = text.find('\n');
    std::string_view line = text.substr(0, end);
    text.remove_prefix(end == std::string_view::npos ? text.size() : end + 1);
    if (line.starts_with("blob ")) {
      if (auto d = Digest::parse(line.substr(5)); d && d->verifiable()) out.blobs.push_back(*d);
    } else if (line.starts_with("layer ")) {
      out.layers.emplace_back(line.substr(6));
    }
  }
  return out;
}

}  // namespace kiln::oci
