#include "providers/text.hpp"

#include <algorithm>
#include <array>
#include <cctype>

namespace orchflow::text {

namespace {

constexpr std::array<std::string_view, 60> stop_words{
    "about", "above",   "after",  "again", "also",   "among",   "and",
    "been",  "before",  "being",  "both",  "could",  "does",    "each",
    "every", "from",    "have",   "into",  "just",   "make",    "many",
    "more",  "most",    "much",   "must",  "only",   "other",   "ours",
    "over",  "same",    "should", "some",  "such",   "than",    "that",
    "their", "them",    "then",   "there", "these",  "they",    "this",
    "those", "through", "under",  "until", "very",   "what",    "when",
    "where", "which",   "while",  "with",  "within", "without", "would",
    "your",  "yours",   "will",   "task"};

bool is_stop(std::string_view w) {
  return std::find(stop_words.begin(), stop_words.end(), w) != stop_words.end();
}

constexpr std::array<std::string_view, 12> section_names{
    "Goal",
    "Agents",
    "Human steps requested",
    "Reply format",
    "Subtasks",
    "Your task",
    "Inputs",
    "Feedback on the previous attempt",
    "Attempt",
    "Task",
    "Output to evaluate",
    "Task outputs"};

} // namespace

std::string lower(std::string_view x) {
  std::string out{x};
  for (auto& c : out)
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::string trim(std::string_view x) {
  auto b = x.find_first_not_of(" \t\r\n");
  if (b == std::string_view::npos)
    return {};
  auto e = x.find_last_not_of(" \t\r\n");
  return std::string{x.substr(b, e - b + 1)};
}

std::vector<std::string> words(std::string_view x) {
  std::vector<std::string> out;
  std::string cur;
  for (char c : x) {
    auto u = static_cast<unsigned char>(c);
    if (std::isalnum(u)) {
      cur += static_cast<char>(std::tolower(u));
    } else if (!cur.empty()) {
      out.push_back(std::move(cur));
      cur.clear();
    }
  }
  if (!cur.empty())
    out.push_back(std::move(cur));
  return out;
}

std::vector<std::string> keywords(std::string_view x) {
  std::vector<std::string> out;
  for (auto& w : words(x)) {
    if (w.size() < 4 || is_stop(w)
        || std::all_of(w.begin(), w.end(),
                       [](char c) { return std::isdigit(c); }))
      continue;
    if (std::find(out.begin(), out.end(), w) == out.end())
      out.push_back(w);
  }
  return out;
}

bool same_stem(std::string_view a, std::string_view b) {
  if (a == b)
    return true;
  size_t n = 0;
  while (n < a.size() && n < b.size() && a[n] == b[n])
    ++n;
  return n >= 5 || (n >= 4 && (n == a.size() || n == b.size()));
}

bool mentions(std::string_view haystack, std::string_view word) {
  auto w = lower(word);
  for (auto& x : words(haystack))
    if (same_stem(x, w))
      return true;
  return false;
}

std::string first_sentence(std::string_view x) {
  auto t = trim(x);
  size_t end = t.size();
  for (size_t i = 0; i + 1 < t.size(); ++i) {
    if ((t[i] == '.' || t[i] == '!' || t[i] == '?')
        && (t[i + 1] == ' ' || t[i + 1] == '\n')) {
      end = i + 1;
      break;
    }
    if (t[i] == '\n') {
      end = i;
      break;
    }
  }
  return trim(std::string_view{t}.substr(0, end));
}

std::string truncate(std::string_view x, size_t n) {
  if (x.size() <= n)
    return std::string{x};
  // Never end inside a multi-byte sequence.
  while (n > 0 && (static_cast<unsigned char>(x[n]) & 0xC0) == 0x80)
    --n;
  auto cut = x.substr(0, n);
  auto space = cut.find_last_of(' ');
  if (space != std::string_view::npos && space > n / 2)
    cut = cut.substr(0, space);
  return std::string{cut} + "...";
}

std::string one_line(std::string_view x) {
  std::string out;
  bool space = false;
  for (char c : x) {
    if (std::isspace(static_cast<unsigned char>(c))) {
      space = !out.empty();
      continue;
    }
    if (space)
      out += ' ';
    space = false;
    out += c;
  }
  return out;
}

std::string capitalize(std::string_view x) {
  std::string out{x};
  if (!out.empty())
    out[0]
        = static_cast<char>(std::toupper(static_cast<unsigned char>(out[0])));
  return out;
}

namespace {

/// The length of the valid UTF-8 sequence at `x[i]`, 0 if there is none
/// (stray continuation bytes, truncation, overlong forms, surrogates).
size_t valid_utf8_at(std::string_view x, size_t i) {
  auto c = static_cast<unsigned char>(x[i]);
  if (c < 0x80)
    return 1;
  size_t len = (c >> 5) == 0x6    ? 2
               : (c >> 4) == 0xE  ? 3
               : (c >> 3) == 0x1E ? 4
                                  : 0;
  if (len == 0 || i + len > x.size())
    return 0;
  for (size_t k = 1; k < len; ++k)
    if ((static_cast<unsigned char>(x[i + k]) & 0xC0) != 0x80)
      return 0;
  auto c1 = static_cast<unsigned char>(x[i + 1]);
  if (len == 2 && c < 0xC2)
    return 0; // overlong
  if (len == 3 && ((c == 0xE0 && c1 < 0xA0) || (c == 0xED && c1 >= 0xA0)))
    return 0; // overlong, surrogate
  if (len == 4
      && (c > 0xF4 || (c == 0xF0 && c1 < 0x90) || (c == 0xF4 && c1 >= 0x90)))
    return 0; // overlong, beyond U+10FFFF
  return len;
}

} // namespace

void sanitize_utf8(std::string& x) {
  // Valid text (nearly always) is only scanned, never copied.
  size_t i = 0;
  while (i < x.size()) {
    auto len = valid_utf8_at(x, i);
    if (len == 0)
      break;
    i += len;
  }
  if (i == x.size())
    return;
  std::string out;
  out.reserve(x.size() + 16);
  out.append(x, 0, i);
  while (i < x.size()) {
    if (auto len = valid_utf8_at(x, i)) {
      out.append(x, i, len);
      i += len;
    } else {
      out += "\xEF\xBF\xBD";
      ++i;
    }
  }
  x = std::move(out);
}

std::string section(std::string_view prompt, std::string_view name) {
  std::string header = "## ";
  header += name;
  header += '\n';
  size_t start = std::string_view::npos;
  if (prompt.substr(0, header.size()) == header)
    start = header.size();
  else if (auto i = prompt.find("\n" + header); i != std::string_view::npos)
    start = i + 1 + header.size();
  if (start == std::string_view::npos)
    return {};
  // The section ends at the next known header.
  size_t end = prompt.size();
  for (auto other : section_names) {
    std::string h = "\n## ";
    h += other;
    h += '\n';
    auto i = prompt.find(h, start);
    if (i != std::string_view::npos && i < end)
      end = i;
  }
  return trim(prompt.substr(start, end - start));
}

} // namespace orchflow::text
