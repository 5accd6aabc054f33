// Hand-built tar streams for hostile-archive tests: any name, type, link or
// PAX record, with none of the checks a real tar writer would apply.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "base/stream.hpp"

namespace kiln::test {

struct RawEntry {
  std::string name{};
  char type = '0';  // '0' file, '1' hardlink, '2' symlink, '3' chr, '4' blk, '5' dir, '6' fifo
  std::string data{};
  std::string link{};
  uint32_t mode = 0644;
  uint32_t dev_major = 0, dev_minor = 0;
  std::vector<std::pair<std::string, std::string>> pax{};  // extra PAX records
  int64_t size = -1;                                       // header size field when not data.size()
};

// One 512-byte ustar header (checksum filled in).
std::string raw_header(const RawEntry& e, int64_t size);
// Whole archive: entries (with a PAX header when names, links or records
// need one), then the two end blocks.
std::string raw_tar(const std::vector<RawEntry>& entries);

// A generated stream of `count` empty regular files "d<k>/f<n>" (1000 per
// directory) without holding it in memory.
class ManyEntriesReader : public Reader {
 public:
  explicit ManyEntriesReader(int64_t count) : count_(count) {}
  Result<size_t> read(std::span<std::byte> buf) override;

 private:
  int64_t count_, next_ = 0;
  std::string pending_;
  size_t pos_ = 0;
  bool ended_ = false;
};

}  // namespace kiln::test
