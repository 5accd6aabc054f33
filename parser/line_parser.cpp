// parse_ast: lines → instructions, as BuildKit's Dockerfile parser reads them.
#include <algorithm>

#include "parser/ast.hpp"
#include "parser/line_args.hpp"
#include "parser/text.hpp"

namespace kiln::parser {

std::string Heredoc::chomped() const {
  if (!chomp) return content;
  std::string out;
  out.reserve(content.size());
  bool at_line_start = true;
  for (char c : content) {
    if (at_line_start && c == '\t') continue;
    at_line_start = c == '\n';
    out += c;
  }
  return out;
}

std::string Node::name() const {
  return text::to_upper(keyword);
}

std::string location_prefix(std::string_view filename, int line) {
  std::string out(filename);
  if (line > 0) {
    out += ':';
    out += std::to_string(line);
  }
  out += ": ";
  return out;
}

namespace {

// Splits the text into lines that keep their "\n" (as BuildKit's scanner).
std::vector<std::string_view> split_lines(std::string_view text) {
  std::vector<std::string_view> lines;
  size_t start = 0;
  while (start < text.size()) {
    size_t nl = text.find('\n', start);
    size_t end = nl == std::string_view::npos ? text.size() : nl + 1;
    lines.push_back(text.substr(start, end - start));
    start = end;
  }
  return lines;
}

std::string_view trim_newline(std::string_view s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r'))
    s.remove_suffix(1);
  return s;
}

bool is_comment(std::string_view line) {
  std::string_view t = text::trim_left_space(line);
  return !t.empty() && t[0] == '#';
}

// The directive regexp: ^#\s*([a-zA-Z][a-zA-Z0-9]*)\s*=\s*(.+?)\s*$ where \s
// is [\t\n\f\r ].
bool match_directive(std::string_view line, std::string& key, std::string& value) {
  auto ws = [](char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\f' || c == '\r'; };
  size_t i = 0;
  if (line.empty() || line[0] != '#') return false;
  ++i;
  while (i < line.size() && ws(line[i]))
    ++i;
  size_t k = i;
  auto alpha = [](char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); };
  if (i >= line.size() || !alpha(line[i])) return false;
  while (i < line.size() && (alpha(line[i]) || (line[i] >= '0' && line[i] <= '9')))
    ++i;
  key = std::string(line.substr(k, i - k));
  while (i < line.size() && ws(line[i]))
    ++i;
  if (i >= line.size() || line[i] != '=') return false;
  ++i;
  while (i < line.size() && ws(line[i]))
    ++i;
  size_t end = line.size();
  while (end > i && ws(line[end - 1]))
    --end;
  if (end <= i) return false;
  value = std::string(line.substr(i, end - i));
  return true;
}

// `# check=skip=A,B;error=true;experimental=all`, read as BuildKit's
// linter reads it (at most three ';'-separated options).
Status check_check_directive(std::string_view v) {
  v = text::trim_space(v);
  int parts = 0;
  while (!v.empty()) {
    size_t semi = ++parts < 3 ? v.find(';') : std::string_view::npos;
    std::string_view part = v.substr(0, semi);
    v = semi == std::string_view::npos ? std::string_view() : v.substr(semi + 1);
    size_t eq = part.find('=');
    if (eq == std::string_view::npos) return fail("invalid check option ", text::go_quote(part));
    std::string_view key = text::trim_space(part.substr(0, eq));
    std::string_view val = text::trim_space(part.substr(eq + 1));
    if (key == "error") {
      static const char* bools[] = {"1", "t", "T", "true",  "TRUE",  "True",
                                    "0", "f", "F", "false", "FALSE", "False"};
      bool ok = false;
      for (const char* b : bools)
        ok |= val == b;
      if (!ok) return fail("failed to parse check option ", text::go_quote(part));
    } else if (key != "skip" && key != "experimental") {
      return fail("invalid check option ", text::go_quote(key));
    }
  }
  return {};
}

class LineParser {
 public:
  LineParser(std::string_view text, std::string_view filename) : filename_(filename) {
    if (text.substr(0, 3) == "\xEF\xBB\xBF") text.remove_prefix(3);
    lines_ = split_lines(text);
    ast_.filename = std::string(filename);
  }

  Result<Ast> run() {
    std::vector<std::string> comments;
    while (next_ < lines_.size()) {
      std::string_view raw = lines_[next_++];
      if (is_comment(raw)) {
        std::string c(text::trim_space(text::trim_left_space(raw).substr(1)));
        if (c.empty())
          comments.clear();
        else
          comments.push_back(std::move(c));
      }
      std::string_view token = text::trim_left_space(trim_newline(raw));
      TRY_ASSIGN(bool was_directive, directive(token, current_ + 1));
      if (was_directive && !comments.empty()) comments.pop_back();
      ++current_;
      if (is_comment(token)) token = {};

      const int start_line = current_;
      std::string line;
      bool end_of_line = trim_continuation(token, line);
      if (end_of_line && line.empty()) continue;

      bool empty_continuation = false;
      while (!end_of_line && next_ < lines_.size()) {
        std::string_view cont_raw = lines_[next_++];
        std::string_view cont = trim_newline(cont_raw);
        TRY(directive(cont, current_ + 1));
        ++current_;
        if (is_comment(cont_raw)) continue;
        if (text::trim_left_space(cont).empty()) {
          empty_continuation = true;
          continue;
        }
        end_of_line = trim_continuation(cont, line);
      }
      if (empty_continuation)
        ast_.warnings.push_back(
            {current_, "empty continuation line found in: " + line +
                           " (empty continuation lines will become errors in a future release)"});

      auto node = detail::node_from_line(line, ast_.directives.escape);
      if (!node) {
        // BuildKit's line-level messages often repeat the instruction
        // ("ENV must have two arguments"); the prefix already names it.
        std::string word = first_word(line), msg = node.error().message;
        if (msg.compare(0, word.size() + 1, word + " ") == 0) msg.erase(0, word.size() + 1);
        return error_at(start_line, word, msg);
      }
      if (detail::can_contain_heredoc(*node) && line.find("<<") != std::string::npos)
        TRY(read_heredocs(*node, line, start_line));
      node->line = start_line;
      node->end_line = current_;
      node->comments = std::move(comments);
      comments.clear();
      ast_.nodes.push_back(std::move(*node));
    }
    if (ast_.nodes.empty()) return fail(location_prefix(filename_, 0), "file with no instructions");
    return std::move(ast_);
  }

 private:
  static std::string first_word(std::string_view line) {
    std::string_view t = text::trim_space(line);
    size_t i = 0;
    while (i < t.size() && !text::is_blank(t[i]))
      ++i;
    return text::to_upper(t.substr(0, i));
  }

  tl::unexpected<Error> error_at(int line, std::string_view instruction, std::string_view msg) {
    std::string out = location_prefix(filename_, line);
    if (!instruction.empty()) {
      out += instruction;
      out += ": ";
    }
    out += msg;
    return fail(out);
  }

  // Returns whether the line was a parser directive. Only the leading lines
  // can be; the first line that is not one ends the directive block. A
  // directive below a comment or blank line is a plain comment (as in
  // BuildKit: licence headers above `# syntax=` are common). One after an
  // instruction is refused: BuildKit would silently ignore it, so the file
  // would not build the way its author wrote it (an `escape` that never
  // applies changes what every later line means).
  Result<bool> directive(std::string_view line, int lineno) {
    std::string key, value;
    if (directives_done_) {
      if (!ast_.nodes.empty() && match_directive(line, key, value)) {
        std::string k = text::to_lower(key);
        if (k == "syntax" || k == "escape" || k == "check")
          return error_at(lineno, "",
                          "parser directive '" + k + "' must come before the first instruction");
      }
      return false;
    }
    if (!match_directive(line, key, value)) {
      directives_done_ = true;
      return false;
    }
    std::string k = text::to_lower(key);
    if (k != "syntax" && k != "escape" && k != "check") {
      directives_done_ = true;
      return false;
    }
    Directives& d = ast_.directives;
    for (const Directive& seen : d.all)
      if (seen.name == k)
        return error_at(lineno, "", "only one " + k + " parser directive can be used");
    if (k == "escape") {
      if (value != "\\" && value != "`")
        return error_at(lineno, "", "invalid escape token '" + value + "' does not match ` or \\");
      d.escape = value[0];
    } else if (k == "syntax") {
      d.syntax = value;
    } else {
      if (Status st = check_check_directive(value); !st)
        return error_at(lineno, "", st.error().message);
      d.check = value;
    }
    d.all.push_back({k, value, lineno});
    return true;
  }

  // BuildKit's continuation regexp: an escape at the end of the line (spaces
  // and tabs may follow) that is not itself escaped. Appends the line without
  // it to `out`; returns true when the logical line ends here.
  bool trim_continuation(std::string_view line, std::string& out) const {
    const char esc = ast_.directives.escape;
    size_t end = line.size();
    while (end > 0 && (line[end - 1] == ' ' || line[end - 1] == '\t'))
      --end;
    if (end > 0 && line[end - 1] == esc && (end == 1 || line[end - 2] != esc)) {
      out.append(line.substr(0, end - 1));
      return false;
    }
    out.append(line);
    return true;
  }

  Status read_heredocs(Node& node, std::string_view line, int start_line) {
    auto docs = detail::heredocs_in_line(line);
    if (!docs) return error_at(start_line, node.name(), docs.error().message);
    for (Heredoc& h : *docs) {
      bool terminated = false;
      while (next_ < lines_.size()) {
        std::string_view raw = lines_[next_++];
        ++current_;
        std::string_view candidate = trim_newline(raw);
        if (h.chomp)
          while (!candidate.empty() && candidate[0] == '\t')
            candidate.remove_prefix(1);
        if (candidate == h.name) {
          terminated = true;
          break;
        }
        h.content.append(raw);
      }
      if (!terminated) return error_at(start_line, node.name(), "unterminated heredoc " + h.name);
      node.heredocs.push_back(std::move(h));
    }
    return {};
  }

  std::string filename_;
  std::vector<std::string_view> lines_;
  size_t next_ = 0;  // index of the next unread line
  int current_ = 0;  // number of lines read so far (the 1-based line just read)
  bool directives_done_ = false;
  Ast ast_;
};

}  // namespace

Result<Ast> parse_ast(std::string_view text, std::string_view filename) {
  return LineParser(text, filename).run();
}

Result<Node> parse_instruction_line(std::string_view line, char escape) {
  return detail::node_from_line(text::trim_space(line), escape);
}

}  // namespace kiln::parser
