// OutputTarget: the file a user names for a command's output (`-o PATH`).
//
// "-" is stdout. A regular file, or a name that does not exist yet, is
// replaced atomically: the bytes go to a temporary beside it that commit()
// renames over it, with the replaced file's permission bits (and owner, where
// kiln may set it; a new file gets 0644 less the umask). A symlink is
// followed: the file it names is replaced and the link stays. Anything else
// that exists (a character or block device such as /dev/null, a FIFO,
// /dev/stdout on a pipe) is opened and written in place, since a rename would
// put a regular file where the device or pipe was.
//
// Only a replaced file is all or nothing: a target destroyed uncommitted
// removes its temporary and leaves the named file as it was. Not thread-safe.
#pragma once

#include <filesystem>
#include <optional>

#include "base/fd.hpp"
#include "base/files.hpp"
#include "base/result.hpp"
#include "base/stream.hpp"

namespace kiln {

class OutputTarget : public Writer {
 public:
  // A FIFO's open waits for its reader, as a shell redirection does.
  static Result<OutputTarget> open(const std::filesystem::path& path);

  using Writer::write;
  Status write(std::span<const std::byte> data) override;
  // Where scratch files as large as the output belong: beside the file being
  // replaced (same filesystem, where the user expects the space to go), else
  // the temporary directory.
  const std::filesystem::path& scratch_dir() const { return scratch_dir_; }
  // The output is complete: a replaced file is renamed into place; a device
  // or FIFO is closed, so a reader sees its end now.
  Status commit();

 private:
  OutputTarget() = default;
  std::optional<AtomicFile> file_;  // replacing a file
  Fd in_place_;                     // a device or FIFO
  std::filesystem::path scratch_dir_;
};

}  // namespace kiln
