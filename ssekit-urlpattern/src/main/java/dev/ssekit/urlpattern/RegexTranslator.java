package dev.ssekit.urlpattern;

/**
 * Translates the ECMAScript ({@code v} flag) body of one regexp group into RE2/J syntax, and
 * rejects, naming it, what RE2/J cannot run in linear time or at all: look-ahead and look-behind,
 * back-references, and the {@code v} flag's class set notation (nested classes, {@code --},
 * {@code &&}, {@code \q{...}}). One pass over the (ASCII) group; stateless.
 */
final class RegexTranslator {
    private RegexTranslator() { }

    static String translate(String re) {
        StringBuilder out = new StringBuilder(re.length() + 8);
        boolean inClass = false;
        int n = re.length();
        for (int i = 0; i < n; i++) {
            char c = re.charAt(i);
            if (c == '\\') {
                if (i + 1 >= n) {
                    throw invalid(re, "a trailing backslash");
                }
                char e = re.charAt(++i);
                if (e >= '1' && e <= '9' && !inClass) {
                    throw unsupported(re, "a back-reference (\\" + e + ")");
                }
                if (e == 'k' && !inClass) {
                    throw unsupported(re, "a named back-reference (\\k<...>)");
                }
                if (e == 'q') {
                    throw unsupported(re, "the v flag's string literal (\\q{...})");
                }
                if (e == 'u') {
                    int cp;
                    if (i + 1 < n && re.charAt(i + 1) == '{') {
                        int close = re.indexOf('}', i + 2);
                        if (close < 0) {
                            throw invalid(re, "an unterminated \\u{...} escape");
                        }
                        cp = parseHex(re, re.substring(i + 2, close));
                        i = close;
                    } else {
                        if (i + 4 >= n) {
                            throw invalid(re, "an incomplete \\u escape");
                        }
                        cp = parseHex(re, re.substring(i + 1, i + 5));
                        i += 4;
                        if (Character.isHighSurrogate((char) cp) && i + 6 < n && re.charAt(i + 1) == '\\'
                                && re.charAt(i + 2) == 'u') {
                            int lo = parseHex(re, re.substring(i + 3, i + 7));
                            if (Character.isLowSurrogate((char) lo)) {
                                cp = Character.toCodePoint((char) cp, (char) lo);
                                i += 6;
                            }
                        }
                    }
                    out.append("\\x{").append(Integer.toHexString(cp)).append('}');
                    continue;
                }
                if (e == 'c' && i + 1 < n && WhatwgUrl.isAsciiAlpha(re.charAt(i + 1))) {
                    out.append("\\x{").append(Integer.toHexString(re.charAt(++i) % 32)).append('}');
                    continue;
                }
                if (e == '0') {
                    out.append("\\x{0}");
                    continue;
                }
                if ((e == 'p' || e == 'P') && i + 1 < n && re.charAt(i + 1) == '{') {
                    int close = re.indexOf('}', i + 2);
                    if (close < 0) {
                        throw invalid(re, "an unterminated \\p{...} escape");
                    }
                    String prop = re.substring(i + 2, close);
                    int eq = prop.indexOf('=');
                    if (eq >= 0) {
                        String key = prop.substring(0, eq);
                        if (!key.equals("Script") && !key.equals("sc") && !key.equals("General_Category")
                                && !key.equals("gc")) {
                            throw unsupported(re, "the Unicode property \\" + e + "{" + prop + "}");
                        }
                        prop = prop.substring(eq + 1);
                    }
                    out.append('\\').append(e).append('{').append(prop).append('}');
                    i = close;
                    continue;
                }
                out.append('\\').append(e);
                continue;
            }
            if (inClass) {
                if (c == '[') {
                    throw unsupported(re, "the v flag's class set notation (a nested class)");
                }
                if ((c == '-' || c == '&') && i + 1 < n && re.charAt(i + 1) == c) {
                    throw unsupported(re, "the v flag's class set operation (" + c + c + ")");
                }
                if (c == ']') {
                    inClass = false;
                }
                out.append(c);
                continue;
            }
            if (c == '[') {
                inClass = true;
                out.append(c);
                if (i + 1 < n && re.charAt(i + 1) == '^') {
                    out.append('^');
                    i++;
                }
                if (i + 1 < n && re.charAt(i + 1) == ']') {
                    // ECMAScript's [] matches nothing and [^] anything; RE2 would read ']' as a member
                    boolean negated = out.charAt(out.length() - 1) == '^';
                    out.setLength(out.length() - (negated ? 2 : 1));
                    out.append(negated ? "(?s:.)" : "[^\\x{0}-\\x{10FFFF}]");
                    inClass = false;
                    i++;
                }
                continue;
            }
            if (c == '(' && i + 2 < n && re.charAt(i + 1) == '?') {
                char k = re.charAt(i + 2);
                if (k == '=' || k == '!') {
                    throw unsupported(re, "a look-ahead ((?" + k + "...))");
                }
                if (k == '<' && i + 3 < n && (re.charAt(i + 3) == '=' || re.charAt(i + 3) == '!')) {
                    throw unsupported(re, "a look-behind ((?<" + re.charAt(i + 3) + "...))");
                }
                if (k == '<') {
                    out.append("(?P<");
                    i += 2;
                    continue;
                }
            }
            if (c == '{') {
                int close = re.indexOf('}', i);
                String body = close < 0 ? "" : re.substring(i + 1, close);
                if (body.matches("[0-9]+(,[0-9]*)?")) {
                    for (String bound : body.split(",")) {
                        if (!bound.isEmpty() && (bound.length() > 4 || Integer.parseInt(bound) > 1000)) {
                            throw unsupported(re, "a repetition count over 1000 ({" + body + "})");
                        }
                    }
                }
            }
            if (c == '.') {
                // ECMAScript's dot does not match line terminators
                out.append("[^\\n\\r\\x{2028}\\x{2029}]");
                continue;
            }
            out.append(c);
        }
        return out.toString();
    }

    private static int parseHex(String re, String hex) {
        try {
            int cp = Integer.parseInt(hex, 16);
            if (cp < 0 || cp > 0x10FFFF) {
                throw invalid(re, "a code point escape out of range");
            }
            return cp;
        } catch (NumberFormatException e) {
            throw invalid(re, "an invalid \\u escape");
        }
    }

    private static IllegalArgumentException invalid(String re, String what) {
        return new IllegalArgumentException("invalid regexp group (" + re + "): " + what);
    }

    private static IllegalArgumentException unsupported(String re, String construct) {
        return new IllegalArgumentException("regexp group (" + re + ") uses " + construct
                + ", which RE2/J cannot run in linear time or at all");
    }
}
