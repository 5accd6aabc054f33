#include "parser/go_regex.hpp"

#include <algorithm>

#include "parser/text.hpp"

namespace kiln::parser::detail {

namespace {

constexpr char32_t kMaxRune = 0x10FFFF;
using Ranges = std::vector<std::pair<char32_t, char32_t>>;

Ranges normalize(Ranges r) {
  std::sort(r.begin(), r.end());
  Ranges out;
  for (auto& p : r) {
    if (!out.empty() && p.first <= out.back().second + 1)
      out.back().second = std::max(out.back().second, p.second);
    else
      out.push_back(p);
  }
  return out;
}

Ranges complement(const Ranges& in) {
  Ranges r = normalize(in), out;
  char32_t next = 0;
  for (auto& p : r) {
    if (p.first > next) out.push_back({next, p.first - 1});
    next = p.second + 1;
  }
  if (next <= kMaxRune) out.push_back({next, kMaxRune});
  return out;
}

bool perl_class(char32_t c, Ranges& out) {
  Ranges r;
  switch (c | 0x20) {
    case 'd':
      r = {{'0', '9'}};
      break;
    case 's':
      r = {{'\t', '\n'}, {'\f', '\r'}, {' ', ' '}};
      break;
    case 'w':
      r = {{'0', '9'}, {'A', 'Z'}, {'_', '_'}, {'a', 'z'}};
      break;
    default:
      return false;
  }
  if (c >= 'A' && c <= 'Z') r = complement(r);
  out.insert(out.end(), r.begin(), r.end());
  return true;
}

bool posix_class(std::string_view name, Ranges& out) {
  static const std::pair<std::string_view, Ranges> table[] = {
      {"alnum", {{'0', '9'}, {'A', 'Z'}, {'a', 'z'}}},
      {"alpha", {{'A', 'Z'}, {'a', 'z'}}},
      {"ascii", {{0, 0x7F}}},
      {"blank", {{'\t', '\t'}, {' ', ' '}}},
      {"cntrl", {{0, 0x1F}, {0x7F, 0x7F}}},
      {"digit", {{'0', '9'}}},
      {"graph", {{'!', '~'}}},
      {"lower", {{'a', 'z'}}},
      {"print", {{' ', '~'}}},
      {"punct", {{'!', '/'}, {':', '@'}, {'[', '`'}, {'{', '~'}}},
      {"space", {{'\t', '\r'}, {' ', ' '}}},
      {"upper", {{'A', 'Z'}}},
      {"word", {{'0', '9'}, {'A', 'Z'}, {'_', '_'}, {'a', 'z'}}},
      {"xdigit", {{'0', '9'}, {'A', 'F'}, {'a', 'f'}}},
  };
  bool neg = !name.empty() && name[0] == '^';
  if (neg) name.remove_prefix(1);
  for (auto& [n, r] : table)
    if (n == name) {
      Ranges add = neg ? complement(r) : r;
      out.insert(out.end(), add.begin(), add.end());
      return true;
    }
  return false;
}

struct RNode {
  enum K { lit, dot, klass, begin, end, concat, alt, star, plus, quest, empty } k = empty;
  char32_t c = 0;
  int cls = -1;
  std::vector<RNode> kids;
  explicit RNode(K kind, char32_t ch = 0) : k(kind), c(ch) {}
};

bool is_octal(char32_t c) {
  return c >= '0' && c <= '7';
}
int hexval(char32_t c) {
  if (c >= '0' && c <= '9') return static_cast<int>(c - '0');
  if (c >= 'a' && c <= 'f') return static_cast<int>(c - 'a' + 10);
  if (c >= 'A' && c <= 'F') return static_cast<int>(c - 'A' + 10);
  return -1;
}

}  // namespace

class GoRegexParser {
 public:
  GoRegexParser(std::vector<char32_t> cps, GoRegex& re) : s_(std::move(cps)), re_(re) {}

  Result<RNode> parse() {
    TRY_ASSIGN(RNode n, alternation(0));
    if (i_ < s_.size()) return fail("unexpected )");
    return n;
  }

 private:
  bool at_end() const { return i_ >= s_.size(); }
  char32_t peek(size_t k = 0) const { return i_ + k < s_.size() ? s_[i_ + k] : 0xFFFFFFFF; }

  Result<RNode> alternation(int depth) {
    if (depth > 100) return fail("expression nests too deeply");
    RNode alt{RNode::alt};
    for (;;) {
      TRY_ASSIGN(RNode c, concat(depth));
      alt.kids.push_back(std::move(c));
      if (peek() != '|') break;
      ++i_;
    }
    if (alt.kids.size() == 1) return std::move(alt.kids[0]);
    return alt;
  }

  Result<RNode> concat(int depth) {
    RNode cat{RNode::concat};
    while (!at_end() && peek() != '|' && peek() != ')') {
      char32_t c = peek();
      if (c == '*' || c == '+' || c == '?') {
        if (cat.kids.empty()) return fail("missing argument to repetition operator");
        RNode& last = cat.kids.back();
        if (last_quantified_) return fail("invalid nested repetition operator");
        ++i_;
        RNode q{c == '*' ? RNode::star : c == '+' ? RNode::plus : RNode::quest};
        q.kids.push_back(std::move(last));
        last = std::move(q);
        if (peek() == '?') ++i_;  // non-greedy: same language
        last_quantified_ = true;
        continue;
      }
      last_quantified_ = false;
      TRY_ASSIGN(RNode a, atom(depth));
      cat.kids.push_back(std::move(a));
    }
    last_quantified_ = false;
    if (cat.kids.size() == 1) return std::move(cat.kids[0]);
    return cat;
  }

  Result<RNode> atom(int depth) {
    char32_t c = s_[i_++];
    switch (c) {
      case '(': {
        if (peek() == '?') return fail("unsupported group syntax");
        TRY_ASSIGN(RNode inner, alternation(depth + 1));
        if (peek() != ')') return fail("missing closing )");
        ++i_;
        last_quantified_ = false;
        return inner;
      }
      case '[':
        return klass();
      case '.':
        return RNode{RNode::dot};
      case '^':
        return RNode{RNode::begin};
      case '$':
        return RNode{RNode::end};
      case '\\':
        return escape();
      default:
        return RNode{RNode::lit, c};
    }
  }

  // A character from an escape (after the backslash), or an error.
  Result<char32_t> escape_char() {
    if (at_end()) return fail("trailing backslash at end of expression");
    char32_t c = s_[i_++];
    if (c < 0x80 && !((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')))
      return c;
    if (c >= '1' && c <= '7' && !is_octal(peek())) return fail("invalid escape sequence");
    if (c >= '0' && c <= '7') {
      char32_t v = c - '0';
      for (int k = 0; k < 2 && is_octal(peek()); ++k)
        v = v * 8 + (s_[i_++] - '0');
      return v;
    }
    switch (c) {
      case 'a':
        return 7;
      case 'f':
        return 12;
      case 'n':
        return 10;
      case 'r':
        return 13;
      case 't':
        return 9;
      case 'v':
        return 11;
      case 'x': {
        char32_t v = 0;
        if (peek() == '{') {
          ++i_;
          int n = 0;
          while (hexval(peek()) >= 0) {
            v = v * 16 + static_cast<char32_t>(hexval(s_[i_++]));
            if (++n > 8 || v > kMaxRune) return fail("invalid escape sequence");
          }
          if (n == 0 || peek() != '}') return fail("invalid escape sequence");
          ++i_;
          return v;
        }
        int a = hexval(peek()), b = hexval(peek(1));
        if (a < 0 || b < 0) return fail("invalid escape sequence");
        i_ += 2;
        return static_cast<char32_t>(a * 16 + b);
      }
      default:
        return fail("invalid escape sequence");
    }
  }

  Result<RNode> escape() {
    char32_t c = peek();
    Ranges r;
    if (perl_class(c, r)) {
      ++i_;
      return add_class(std::move(r), false);
    }
    if (c == 'A') return ++i_, RNode{RNode::begin};
    if (c == 'z') return ++i_, RNode{RNode::end};
    if (c == 'Q') {
      ++i_;
      RNode cat{RNode::concat};
      while (!at_end()) {
        if (peek() == '\\' && peek(1) == 'E') {
          i_ += 2;
          break;
        }
        cat.kids.push_back(RNode{RNode::lit, s_[i_++]});
      }
      return cat;
    }
    TRY_ASSIGN(char32_t ch, escape_char());
    return RNode{RNode::lit, ch};
  }

  Result<RNode> klass() {
    bool negated = peek() == '^';
    if (negated) ++i_;
    Ranges r;
    bool first = true;
    for (;;) {
      if (at_end()) return fail("missing closing ]");
      char32_t c = peek();
      if (c == ']' && !first) {
        ++i_;
        break;
      }
      first = false;
      if (c == '[' && peek(1) == ':') {
        size_t close = i_ + 2;
        while (close + 1 < s_.size() && !(s_[close] == ':' && s_[close + 1] == ']'))
          ++close;
        if (close + 1 < s_.size()) {
          std::string name;
          for (size_t k = i_ + 2; k < close; ++k)
            text::append_utf8(name, s_[k]);
          if (!posix_class(name, r)) return fail("invalid character class range");
          i_ = close + 2;
          continue;
        }
      }
      if (c == '\\' && perl_class(peek(1), r)) {
        i_ += 2;
        continue;
      }
      TRY_ASSIGN(char32_t lo, class_char());
      char32_t hi = lo;
      if (peek() == '-' && i_ + 1 < s_.size() && peek(1) != ']') {
        ++i_;
        TRY_ASSIGN(hi, class_char());
        if (hi < lo) return fail("invalid character class range");
      }
      r.push_back({lo, hi});
    }
    return add_class(std::move(r), negated);
  }

  Result<char32_t> class_char() {
    char32_t c = s_[i_++];
    if (c != '\\') return c;
    return escape_char();
  }

  RNode add_class(Ranges r, bool negated) {
    GoRegex::Class k;
    k.ranges = negated ? complement(r) : normalize(std::move(r));
    for (char32_t c = 0; c < 128; ++c) {
      bool in = false;
      for (auto& p : k.ranges)
        in |= c >= p.first && c <= p.second;
      if (in) k.ascii[c >> 6] |= uint64_t{1} << (c & 63);
    }
    re_.classes_.push_back(std::move(k));
    RNode n{RNode::klass};
    n.cls = static_cast<int>(re_.classes_.size()) - 1;
    return n;
  }

  std::vector<char32_t> s_;
  size_t i_ = 0;
  bool last_quantified_ = false;
  GoRegex& re_;
};

bool GoRegex::Class::contains(char32_t c) const {
  if (c < 128) return (ascii[c >> 6] >> (c & 63)) & 1;
  auto it = std::partition_point(ranges.begin(), ranges.end(),
                                 [c](const auto& r) { return r.first <= c; });
  return it != ranges.begin() && c <= std::prev(it)->second;
}

namespace {

// Builds the program backwards: `next` is where control goes after `n`.
int emit(std::vector<GoRegex::Inst>& p, const RNode& n, int next);

}  // namespace

Result<GoRegex> GoRegex::compile(std::string_view expr) {
  std::vector<char32_t> cps;
  for (size_t i = 0; i < expr.size();) {
    char32_t c;
    size_t w = text::decode_utf8(expr, i, c);
    if (c == 0xFFFD && w == 1) return fail("invalid UTF-8");
    cps.push_back(c);
    i += w;
  }
  GoRegex re;
  GoRegexParser parser(cps, re);
  TRY_ASSIGN(RNode root, parser.parse());
  re.prog_.push_back({Inst::match});
  re.start_ = emit(re.prog_, root, 0);
  re.prepare_bitsets();

  // Literal prefix after a leading ^ and literal suffix before a final $.
  const std::vector<RNode>* items = nullptr;
  std::vector<RNode> single;
  if (root.k == RNode::concat) {
    items = &root.kids;
  } else {
    single.push_back(root);
    items = &single;
  }
  if (!items->empty() && items->front().k == RNode::begin) {
    re.anchored_ = true;
    for (size_t i = 1; i < items->size() && (*items)[i].k == RNode::lit; ++i)
      text::append_utf8(re.prefix_, (*items)[i].c);
  }
  if (!items->empty() && items->back().k == RNode::end) {
    std::vector<char32_t> tail;
    for (size_t i = items->size() - 1; i-- > 0 && (*items)[i].k == RNode::lit;)
      tail.push_back((*items)[i].c);
    for (auto it = tail.rbegin(); it != tail.rend(); ++it)
      text::append_utf8(re.suffix_, *it);
  }
  return re;
}

namespace {

int add(std::vector<GoRegex::Inst>& p, GoRegex::Inst in) {
  p.push_back(in);
  return static_cast<int>(p.size()) - 1;
}

int emit(std::vector<GoRegex::Inst>& p, const RNode& n, int next) {
  using I = GoRegex::Inst;
  switch (n.k) {
    case RNode::lit: {
      I in{I::ch};
      in.c = n.c, in.x = next;
      return add(p, in);
    }
    case RNode::dot: {
      I in{I::any_not_nl};
      in.x = next;
      return add(p, in);
    }
    case RNode::klass: {
      I in{I::in_class};
      in.cls = n.cls, in.x = next;
      return add(p, in);
    }
    case RNode::begin:
    case RNode::end: {
      I in{n.k == RNode::begin ? I::begin : I::end};
      in.x = next;
      return add(p, in);
    }
    case RNode::concat: {
      int e = next;
      for (auto it = n.kids.rbegin(); it != n.kids.rend(); ++it)
        e = emit(p, *it, e);
      return e;
    }
    case RNode::alt: {
      int e = emit(p, n.kids.back(), next);
      for (size_t i = n.kids.size() - 1; i-- > 0;) {
        I in{I::split};
        in.x = emit(p, n.kids[i], next), in.y = e;
        e = add(p, in);
      }
      return e;
    }
    case RNode::star:
    case RNode::plus: {
      I in{I::split};
      in.y = next;
      int split = add(p, in);
      int body = emit(p, n.kids[0], split);
      p[split].x = body;
      return n.k == RNode::star ? split : body;
    }
    case RNode::quest: {
      I in{I::split};
      in.x = emit(p, n.kids[0], next), in.y = next;
      return add(p, in);
    }
    case RNode::empty:
      return next;
  }
  return next;
}

// A set of program counters with O(1) insert and clear.
struct SparseSet {
  std::vector<int> dense, sparse;
  size_t n = 0;
  void reset(size_t size) {
    if (sparse.size() < size) dense.resize(size), sparse.resize(size);
    n = 0;
  }
  bool has(int pc) const {
    int i = sparse[pc];
    return i >= 0 && static_cast<size_t>(i) < n && dense[i] == pc;
  }
  void insert(int pc) {
    sparse[pc] = static_cast<int>(n);
    dense[n++] = pc;
  }
};

}  // namespace

bool GoRegex::match(std::string_view s) const {
  // Most paths fail here, usually on one byte, before any memcmp.
  if (anchored_ && !prefix_.empty() &&
      (s.size() < prefix_.size() || s[0] != prefix_[0] || s.substr(0, prefix_.size()) != prefix_))
    return false;
  if (!suffix_.empty() && (s.size() < suffix_.size() || s.back() != suffix_.back() ||
                           s.substr(s.size() - suffix_.size()) != suffix_))
    return false;
  return use_bits_ ? simulate_bits(s) : simulate(s);
}

void GoRegex::prepare_bitsets() {
  const size_t n = prog_.size();
  if (n > 64) return;
  use_bits_ = true;
  eps_.assign(n, 0);
  succ_.assign(n, 0);
  for (size_t pc = 0; pc < n; ++pc) {
    // Depth-first through split instructions only.
    uint64_t seen = 0;
    std::vector<int> stack = {static_cast<int>(pc)};
    while (!stack.empty()) {
      int p = stack.back();
      stack.pop_back();
      if (seen >> p & 1) continue;
      seen |= uint64_t{1} << p;
      if (prog_[p].op == Inst::split) {
        stack.push_back(prog_[p].x);
        stack.push_back(prog_[p].y);
      }
    }
    eps_[pc] = seen;
  }
  for (size_t pc = 0; pc < n; ++pc) {
    const Inst& in = prog_[pc];
    uint64_t bit = uint64_t{1} << pc;
    switch (in.op) {
      case Inst::ch:
      case Inst::any_not_nl:
      case Inst::in_class:
        consuming_ |= bit;
        succ_[pc] = eps_[in.x];
        for (char32_t c = 0; c < 128; ++c) {
          bool ok = in.op == Inst::ch           ? in.c == c
                    : in.op == Inst::any_not_nl ? c != '\n'
                                                : classes_[in.cls].contains(c);
          if (ok) accept_ascii_[c] |= bit;
        }
        break;
      case Inst::begin:
        begin_ |= bit;
        break;
      case Inst::end:
        end_ |= bit;
        break;
      case Inst::match:
        match_ |= bit;
        break;
      default:
        break;
    }
  }
}

// Adds what ^ and $ let through at this position, until nothing changes.
uint64_t GoRegex::closure_bits(uint64_t set, bool at_start, bool at_end) const {
  for (;;) {
    uint64_t add = 0;
    uint64_t gates = (at_start ? set & begin_ : 0) | (at_end ? set & end_ : 0);
    for (uint64_t g = gates; g; g &= g - 1)
      add |= eps_[prog_[__builtin_ctzll(g)].x];
    if ((set | add) == set) return set;
    set |= add;
  }
}

bool GoRegex::simulate_bits(std::string_view s) const {
  const uint64_t start = eps_[start_];
  uint64_t cur = closure_bits(start, true, s.empty());
  if (cur & match_) return true;
  for (size_t pos = 0; pos < s.size();) {
    char32_t c;
    size_t w = static_cast<unsigned char>(s[pos]) < 0x80
                   ? (c = static_cast<unsigned char>(s[pos]), 1)
                   : text::decode_utf8(s, pos, c);
    uint64_t fire;
    if (c < 128) {
      fire = cur & accept_ascii_[c];
    } else {
      fire = 0;
      for (uint64_t b = cur & consuming_; b; b &= b - 1) {
        int pc = __builtin_ctzll(b);
        const Inst& in = prog_[pc];
        bool ok = in.op == Inst::ch           ? in.c == c
                  : in.op == Inst::any_not_nl ? c != '\n'
                                              : classes_[in.cls].contains(c);
        if (ok) fire |= uint64_t{1} << pc;
      }
    }
    uint64_t next = 0;
    for (uint64_t b = fire; b; b &= b - 1)
      next |= succ_[__builtin_ctzll(b)];
    pos += w;
    if (!anchored_) next |= start;
    if (pos == s.size() || (next & (begin_ | end_)))
      next = closure_bits(next, false, pos == s.size());
    if (next & match_) return true;
    if (!next) return false;
    cur = next;
  }
  return false;
}

bool GoRegex::simulate(std::string_view s) const {
  thread_local SparseSet sets[2];
  thread_local std::vector<int> stack;
  SparseSet* cur = &sets[0];
  SparseSet* nxt = &sets[1];
  cur->reset(prog_.size());
  nxt->reset(prog_.size());
  bool matched = false;
  // Follows split/assert edges from pc at position `pos`.
  auto closure = [&](SparseSet& set, int pc, size_t pos) {
    stack.clear();
    stack.push_back(pc);
    while (!stack.empty()) {
      int p = stack.back();
      stack.pop_back();
      if (set.has(p)) continue;
      set.insert(p);
      const Inst& in = prog_[p];
      switch (in.op) {
        case Inst::split:
          stack.push_back(in.y);
          stack.push_back(in.x);
          break;
        case Inst::begin:
          if (pos == 0) stack.push_back(in.x);
          break;
        case Inst::end:
          if (pos == s.size()) stack.push_back(in.x);
          break;
        case Inst::match:
          matched = true;
          break;
        default:
          break;
      }
    }
  };
  closure(*cur, start_, 0);
  size_t pos = 0;
  while (pos < s.size() && !matched) {
    char32_t c;
    size_t w = static_cast<unsigned char>(s[pos]) < 0x80
                   ? (c = static_cast<unsigned char>(s[pos]), 1)
                   : text::decode_utf8(s, pos, c);
    nxt->n = 0;
    for (size_t k = 0; k < cur->n; ++k) {
      const Inst& in = prog_[cur->dense[k]];
      bool ok = false;
      switch (in.op) {
        case Inst::ch:
          ok = in.c == c;
          break;
        case Inst::any_not_nl:
          ok = c != '\n';
          break;
        case Inst::in_class:
          ok = classes_[in.cls].contains(c);
          break;
        default:
          break;
      }
      if (ok) closure(*nxt, in.x, pos + w);
    }
    pos += w;
    if (!anchored_) closure(*nxt, start_, pos);
    std::swap(cur, nxt);
    if (cur->n == 0 && anchored_) return false;
  }
  return matched;
}

}  // namespace kiln::parser::detail
