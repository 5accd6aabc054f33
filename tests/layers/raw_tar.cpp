#include "tests/layers/raw_tar.hpp"

#include <cstdio>
#include <cstring>

namespace kiln::test {

namespace {

void octal(char* field, size_t width, uint64_t v) {
  // width-1 octal digits, zero padded, then NUL (values that do not fit are truncated).
  for (size_t i = width - 1; i-- > 0; v >>= 3)
    field[i] = static_cast<char>('0' + (v & 7));
  field[width - 1] = '\0';
}

std::string pad512(std::string s) {
  s.resize((s.size() + 511) / 512 * 512, '\0');
  return s;
}

std::string pax_record(const std::string& key, const std::string& value) {
  std::string body = " " + key + "=" + value + "\n";
  size_t len = body.size() + 1;
  while (std::to_string(len).size() + body.size() != len)
    ++len;
  return std::to_string(len) + body;
}

}  // namespace

std::string raw_header(const RawEntry& e, int64_t size) {
  char h[512] = {};
  std::memcpy(h, e.name.data(), std::min<size_t>(e.name.size(), 100));
  octal(h + 100, 8, e.mode);
  octal(h + 108, 8, 0);
  octal(h + 116, 8, 0);
  octal(h + 124, 12, static_cast<uint64_t>(size));
  octal(h + 136, 12, 1600000000);
  h[156] = e.type;
  std::memcpy(h + 157, e.link.data(), std::min<size_t>(e.link.size(), 100));
  std::memcpy(h + 257, "ustar", 6);
  std::memcpy(h + 263, "00", 2);
  octal(h + 329, 8, e.dev_major);
  octal(h + 337, 8, e.dev_minor);
  std::memset(h + 148, ' ', 8);
  unsigned sum = 0;
  for (unsigned char c : h)
    sum += c;
  std::snprintf(h + 148, 8, "%06o", sum);
  return std::string(h, 512);
}

std::string raw_tar(const std::vector<RawEntry>& entries) {
  std::string out;
  for (auto& e : entries) {
    std::string records;
    if (e.name.size() > 100) records += pax_record("path", e.name);
    if (e.link.size() > 100) records += pax_record("linkpath", e.link);
    for (auto& [k, v] : e.pax)
      records += pax_record(k, v);
    if (!records.empty()) {
      RawEntry x;
      x.name = "PaxHeader";
      x.type = 'x';
      out += raw_header(x, static_cast<int64_t>(records.size())) + pad512(records);
    }
    int64_t size = e.size >= 0 ? e.size : static_cast<int64_t>(e.data.size());
    out += raw_header(e, size) + pad512(e.data);
  }
  return out + std::string(1024, '\0');
}

Result<size_t> ManyEntriesReader::read(std::span<std::byte> buf) {
  size_t done = 0;
  while (done < buf.size()) {
    if (pos_ == pending_.size()) {
      pos_ = 0;
      pending_.clear();
      if (next_ < count_) {
        RawEntry e;
        e.name = "d" + std::to_string(next_ / 1000) + "/f" + std::to_string(next_ % 1000);
        pending_ = raw_header(e, 0);
        ++next_;
      } else if (!ended_) {
        pending_ = std::string(1024, '\0');
        ended_ = true;
      } else {
        break;
      }
    }
    size_t n = std::min(buf.size() - done, pending_.size() - pos_);
    std::memcpy(buf.data() + done, pending_.data() + pos_, n);
    pos_ += n;
    done += n;
  }
  return done;
}

}  // namespace kiln::test
