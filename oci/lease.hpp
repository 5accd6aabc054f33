// Leases: how work in flight (a pull, a load, an unpack, a push) keeps
// `kiln prune` and `kiln rmi` from deleting what it has stored but not yet
// named, or is still reading.
//
//   ROOT/kiln/leases/<random>   one file per lease: a "# purpose" line, then
//                               "blob sha256:<hex>" and "layer <hex>" lines
//
// The holder keeps an exclusive flock on its file for as long as the Lease
// lives, so a lease is live exactly while its lock is held: a killed holder's
// lock goes with it (no pid files, no pid reuse), and the next prune removes
// the file. A lease file appears in leases/ already locked (it is made in
// kiln/tmp and renamed in), so prune never mistakes a new one for a dead one.
//
// Ordering against prune: add() appends under the store lock, which prune and
// rmi hold from start to end. So a name is added either before a collection
// reads the leases (it is kept) or after it has finished (what it removed is
// already gone, and the holder's next has_blob() or put sees that). Callers add
// a name before they check for, store, or read what it names. No fsync: prune
// reads through the same page cache, and a crash that loses the lines also
// kills the holder, whose lease is then dead anyway.
//
// Thread-safety: one Lease may be added to from several threads (each append
// is one write(2) under the store lock). Never call add() while holding
// Store::lock() in the same thread: flock would wait on itself.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "base/fd.hpp"
#include "base/files.hpp"
#include "base/result.hpp"
#include "oci/digest.hpp"
#include "oci/store.hpp"

namespace kiln::oci {

struct LeaseNames {
  std::vector<Digest> blobs;
  std::vector<std::string> layers;  // layer-cache entries: diff-id or chain-id hex
};

class Lease {
 public:
  // A new live lease; `purpose` ("pull docker.io/library/alpine:3") is for
  // people reading leases/ and is kept to one line.
  static Result<Lease> create(const Store& store, std::string_view purpose);
  Lease(Lease&& o) noexcept = default;
  Lease& operator=(Lease&& o) noexcept;
  ~Lease() { release(); }

  Status add(const LeaseNames& names);
  Status add(const Digest& d) { return add(LeaseNames{{d}, {}}); }
  Status add_layer(std::string hex) { return add(LeaseNames{{}, {std::move(hex)}}); }
  // Removes the file, then drops the lock. Idempotent.
  void release();
  const std::string& name() const { return name_; }

 private:
  Lease(Store store, Fd dir, Fd fd, std::string name)
      : store_(std::move(store)),
        dir_(std::move(dir)),
        fd_(std::move(fd)),
        name_(std::move(name)) {}
  Store store_;
  Fd dir_, fd_;  // kiln/leases/, and the locked lease file
  std::string name_;
};

// The names in a lease file's text; lines of any other kind are skipped.
LeaseNames parse_lease(std::string_view text);

}  // namespace kiln::oci
