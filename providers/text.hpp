#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace orchflow::text {

// Small, pure text utilities shared by the built-in provider and the
// planner's routing rules. ASCII case folding only.

/// Lowercases ASCII letters.
std::string lower(std::string_view x);

/// Trims ASCII whitespace on both ends.
std::string trim(std::string_view x);

/// Splits into lowercase words of letters and digits.
std::vector<std::string> words(std::string_view x);

/// Words of at least four letters that are not stop words, in order of
/// first appearance, without duplicates.
std::vector<std::string> keywords(std::string_view x);

/// True if the words share a stem: equal, or a common prefix of at least
/// five letters (approve ~ approval, analyze ~ analysis).
bool same_stem(std::string_view a, std::string_view b);

/// True if some word of `haystack` has the same stem as `word`.
bool mentions(std::string_view haystack, std::string_view word);

/// The first sentence (up to the first ". ", "! ", "? " or newline).
std::string first_sentence(std::string_view x);

/// Cuts `x` to at most `n` bytes on a word boundary (never inside a UTF-8
/// sequence), adding "..." if cut.
std::string truncate(std::string_view x, size_t n);

/// Collapses all whitespace runs into single spaces.
std::string one_line(std::string_view x);

/// Uppercases the first letter.
std::string capitalize(std::string_view x);

/// Replaces every invalid UTF-8 sequence by U+FFFD, in place.
void sanitize_utf8(std::string& x);

/// Returns the body of the `## <name>` section of a prompt built from
/// config/prompts.json, or an empty string.
std::string section(std::string_view prompt, std::string_view name);

} // namespace orchflow::text
