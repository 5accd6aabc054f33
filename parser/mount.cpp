#include "parser/mount.hpp"

#include <cmath>
#include <vector>

#include "parser/flags.hpp"
#include "parser/text.hpp"

namespace kiln::parser {
namespace {

// One CSV record with Go's encoding/csv rules (comma separated, "" quoting,
// no bare quote inside an unquoted field).
Result<std::vector<std::string>> csv_fields(std::string_view s) {
  std::vector<std::string> out;
  size_t i = 0;
  for (;;) {
    std::string field;
    if (i < s.size() && s[i] == '"') {
      ++i;
      for (;;) {
        if (i >= s.size())
          return fail("failed to parse csv mounts: extraneous or missing \" in quoted-field");
        if (s[i] == '"') {
          if (i + 1 < s.size() && s[i + 1] == '"') {
            field += '"';
            i += 2;
            continue;
          }
          ++i;
          break;
        }
        field += s[i++];
      }
      if (i < s.size() && s[i] != ',')
        return fail("failed to parse csv mounts: extraneous or missing \" in quoted-field");
    } else {
      size_t end = s.find(',', i);
      if (end == std::string_view::npos) end = s.size();
      field = std::string(s.substr(i, end - i));
      if (field.find('"') != std::string::npos)
        return fail("failed to parse csv mounts: bare \" in non-quoted-field");
      i = end;
    }
    out.push_back(std::move(field));
    if (i >= s.size()) break;
    ++i;  // ,
    if (i == s.size()) {
      out.emplace_back();
      break;
    }
  }
  return out;
}

Result<bool> parse_bool(std::string_view key, std::string_view v) {
  if (v == "1" || v == "t" || v == "T" || v == "true" || v == "TRUE" || v == "True") return true;
  if (v == "0" || v == "f" || v == "F" || v == "false" || v == "FALSE" || v == "False")
    return false;
  return fail("invalid value for ", key, ": ", v);
}

std::optional<uint32_t> parse_uint(std::string_view v, int base) {
  if (v.empty()) return std::nullopt;
  uint64_t n = 0;
  for (char c : v) {
    int d = c - '0';
    if (c < '0' || c > '9' || d >= base) return std::nullopt;
    n = n * static_cast<uint64_t>(base) + static_cast<uint64_t>(d);
    if (n > 0xFFFFFFFFull) return std::nullopt;
  }
  return static_cast<uint32_t>(n);
}

const std::vector<std::string>& mount_types() {
  static const std::vector<std::string> t = {"bind", "cache", "tmpfs", "secret", "ssh"};
  return t;
}

}  // namespace

Result<int64_t> parse_ram_size(std::string_view s) {
  // ^(\d+(\.\d+)*) ?([kKmMgGtTpP])?[iI]?[bB]?$
  size_t i = 0;
  while (i < s.size() && s[i] >= '0' && s[i] <= '9')
    ++i;
  if (i == 0) return fail("invalid size: '", s, "'");
  if (i < s.size() && s[i] == '.') {
    size_t j = i + 1;
    while (j < s.size() && s[j] >= '0' && s[j] <= '9')
      ++j;
    if (j == i + 1) return fail("invalid size: '", s, "'");
    i = j;
  }
  std::string num(s.substr(0, i));
  if (i < s.size() && s[i] == ' ') ++i;
  double mult = 1;
  if (i < s.size()) {
    switch (s[i] | 0x20) {
      case 'k':
        mult = 1024.0, ++i;
        break;
      case 'm':
        mult = 1048576.0, ++i;
        break;
      case 'g':
        mult = 1073741824.0, ++i;
        break;
      case 't':
        mult = 1099511627776.0, ++i;
        break;
      case 'p':
        mult = 1125899906842624.0, ++i;
        break;
      default:
        break;
    }
  }
  if (i < s.size() && (s[i] | 0x20) == 'i') ++i;
  if (i < s.size() && (s[i] | 0x20) == 'b') ++i;
  if (i != s.size()) return fail("invalid size: '", s, "'");
  double v = std::strtod(num.c_str(), nullptr) * mult;
  if (!std::isfinite(v) || v >= 9.2e18) return fail("invalid size: '", s, "'");
  return static_cast<int64_t>(v);
}

Status check_mount_syntax(std::string_view spec) {
  TRY_ASSIGN(std::vector<std::string> fields, csv_fields(spec));
  for (const std::string& f : fields) {
    size_t eq = f.find('=');
    if (eq == std::string::npos) continue;
    if (text::to_lower(std::string_view(f).substr(0, eq)) != "from") continue;
    std::string_view v = std::string_view(f).substr(eq + 1);
    size_t dollar = v.find('$');
    if (dollar != std::string_view::npos && dollar != v.size() - 1)
      return fail("'from' doesn't support variable expansion, define alias stage instead");
  }
  return {};
}

std::string mount_from(std::string_view spec) {
  auto fields = csv_fields(spec);
  std::string from;
  if (!fields) return from;
  for (const std::string& f : *fields) {
    size_t eq = f.find('=');
    if (eq != std::string::npos && text::to_lower(std::string_view(f).substr(0, eq)) == "from")
      from = f.substr(eq + 1);
  }
  return from;
}

Result<std::string> expand_mount_spec(std::string_view spec, const WordExpander& expand) {
  TRY_ASSIGN(std::vector<std::string> fields, csv_fields(spec));
  std::string out;
  for (const std::string& f : fields) {
    std::string field = f;
    if (size_t eq = f.find('='); eq != std::string::npos) {
      TRY_ASSIGN(std::string v, expand(std::string_view(f).substr(eq + 1)));
      field = f.substr(0, eq + 1) + v;
    }
    if (field.find_first_of(",\"") != std::string::npos) {
      std::string q = "\"";
      for (char c : field)
        q += c == '"' ? std::string("\"\"") : std::string(1, c);
      field = q + "\"";
    }
    if (!out.empty()) out += ',';
    out += field;
  }
  return out;
}

Result<Mount> parse_mount(std::string_view spec, const WordExpander& expand) {
  TRY_ASSIGN(std::vector<std::string> fields, csv_fields(spec));
  Mount m;
  bool ro_auto = true;
  for (const std::string& field : fields) {
    size_t eq = field.find('=');
    std::string key = text::to_lower(std::string_view(field).substr(0, eq));
    if (eq == std::string::npos) {
      if (key == "readonly" || key == "ro") {
        m.readonly = true, ro_auto = false;
      } else if (key == "readwrite" || key == "rw") {
        m.readonly = false, ro_auto = false;
      } else if (key == "required") {
        if (m.type != "secret" && m.type != "ssh")
          return fail("unexpected key '", key, "' for mount type '", m.type, "'");
        m.required = true;
      } else {
        return fail("invalid field '", field, "' must be a key=value pair");
      }
      continue;
    }
    TRY_ASSIGN(std::string value, expand(std::string_view(field).substr(eq + 1)));
    if (key == "type") {
      std::string t = text::to_lower(value);
      bool ok = false;
      for (const std::string& known : mount_types())
        ok |= known == t;
      if (!ok)
        return fail("unsupported mount type ", text::go_quote(value),
                    detail::suggest(t, mount_types(), ""));
      m.type = t;
    } else if (key == "from") {
      m.from = value;
    } else if (key == "source" || key == "src") {
      m.source = value;
    } else if (key == "target" || key == "dst" || key == "destination") {
      m.target = value;
    } else if (key == "readonly" || key == "ro") {
      TRY_ASSIGN(m.readonly, parse_bool(key, value));
      ro_auto = false;
    } else if (key == "readwrite" || key == "rw") {
      TRY_ASSIGN(bool rw, parse_bool(key, value));
      m.readonly = !rw, ro_auto = false;
    } else if (key == "required") {
      if (m.type != "secret" && m.type != "ssh")
        return fail("unexpected key '", key, "' for mount type '", m.type, "'");
      TRY_ASSIGN(m.required, parse_bool(key, value));
    } else if (key == "size") {
      if (m.type != "tmpfs")
        return fail("unexpected key '", key, "' for mount type '", m.type, "'");
      auto size = parse_ram_size(value);
      if (!size) return fail("invalid value for ", key, ": ", value);
      m.size_limit = *size;
    } else if (key == "id") {
      m.id = value;
    } else if (key == "sharing") {
      std::string s = text::to_lower(value);
      if (s != "shared" && s != "private" && s != "locked")
        return fail("unsupported sharing value ", text::go_quote(value));
      m.sharing = s;
    } else if (key == "mode") {
      m.mode = parse_uint(value, 8);
      if (!m.mode) return fail("invalid value ", value, " for mode");
    } else if (key == "uid" || key == "gid") {
      auto n = parse_uint(value, 10);
      if (!n) return fail("invalid value ", value, " for ", key);
      (key == "uid" ? m.uid : m.gid) = n;
    } else if (key == "env") {
      m.env = value;
    } else {
      static const std::vector<std::string> keys = {
          "type",        "from", "source", "target",    "readonly", "id",  "sharing",
          "required",    "size", "mode",   "uid",       "gid",      "src", "dst",
          "destination", "ro",   "rw",     "readwrite", "env"};
      return fail("unexpected key '", key, "' in '", field, "'", detail::suggest(key, keys, ""));
    }
  }
  const bool file_info = m.type == "secret" || m.type == "ssh" || m.type == "cache";
  if (!file_info) {
    if (m.mode) return fail("mode not allowed for \"", m.type, "\" type mounts");
    if (m.uid) return fail("uid not allowed for \"", m.type, "\" type mounts");
    if (m.gid) return fail("gid not allowed for \"", m.type, "\" type mounts");
  }
  if (ro_auto) m.readonly = !(m.type == "cache" || m.type == "tmpfs");
  if (m.type == "secret") {
    if (!m.from.empty()) return fail("secret mount should not have a from");
    if (!m.sharing.empty()) return fail("secret mount should not define sharing");
    if (m.source.empty() && m.target.empty() && m.id.empty())
      return fail("invalid secret mount. one of source, target required");
    if (!m.source.empty() && !m.id.empty()) return fail("both source and id can't be set");
  }
  if (!m.sharing.empty() && m.type != "cache")
    return fail("invalid cache sharing set for ", m.type, " mount");
  return m;
}

}  // namespace kiln::parser
