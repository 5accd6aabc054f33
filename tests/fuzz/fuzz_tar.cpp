// libFuzzer target: any bytes as an uncompressed layer tar (what a layer blob
// or `kiln import rootfs.tar` hands the reader after decompression). Every
// entry is read to its end and its names are cleaned as the applier does;
// each must end in entries or an error, never a crash, hang or overflow.
// Nothing is written to disk: applying would cost a tree per input (and make
// device nodes when run as root) for checks the reader's callers make anyway.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <limits>
#include <string>

#include "layers/tar_reader.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace kiln::layers;
  kiln::StringReader in(std::string(reinterpret_cast<const char*>(data), size));
  auto tar = TarReader::open(in, "fuzz.tar");
  if (!tar) return 0;
  for (;;) {
    auto e = (*tar)->next();
    if (!e || !*e) break;
    const TarEntry& entry = **e;
    (void)clean_layer_path(entry.path);
    if (entry.type == EntryType::hardlink) (void)clean_layer_path(entry.link);
    int64_t offset;
    std::span<const std::byte> block;
    for (;;) {
      auto more = (*tar)->read_block(offset, block);
      if (!more || !*more) break;
      // The appliers compare offset + length with the entry's size: that sum
      // must not overflow.
      if (offset < 0 ||
          offset > std::numeric_limits<int64_t>::max() - static_cast<int64_t>(block.size()))
        std::abort();
    }
  }
  (void)(*tar)->drain();
  return 0;
}
