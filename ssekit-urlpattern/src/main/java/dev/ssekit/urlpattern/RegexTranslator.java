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

    /** What counted repetitions of a component's regexp groups may add to its program, in copies of an atom (RE2's figure). */
    static final int MAX_REPETITION_COPIES = 1000;

    /**
     * How many copies of atoms the counted repetitions in one regexp group's (ECMAScript) body add
     * to the compiled program: {@code x{m,n}} stands for max(m, n) copies of {@code x} (RE2/J
     * expands it so), nested counts multiply, and {@code *}, {@code +}, {@code ?} add none. RE2
     * refuses more than 1,000; RE2/J checks only each count, so {@code ((?:a{1000}){1000})} would
     * compile to a million instructions. One pass; saturates at {@link Integer#MAX_VALUE}.
     */
    static long repetitionCopies(String re) {
        // per open group: its size with the counts expanded, and as written (each count once)
        java.util.ArrayDeque<long[]> frames = new java.util.ArrayDeque<>();
        long[] frame = {0, 0};
        long lastWith = 0;
        int n = re.length();
        for (int i = 0; i < n; i++) {
            char c = re.charAt(i);
            long atomWith = 1;
            long atomWritten = 1;
            if (c == '\\') {
                if (i + 2 < n && "upP".indexOf(re.charAt(i + 1)) >= 0 && re.charAt(i + 2) == '{') {
                    int close = re.indexOf('}', i + 3);
                    i = close < 0 ? n : close;
                } else {
                    i++;
                }
            } else if (c == '[') {
                int j = i + 1;
                if (j < n && re.charAt(j) == '^') {
                    j++;
                }
                while (j < n && re.charAt(j) != ']') {
                    j += re.charAt(j) == '\\' ? 2 : 1;
                }
                i = j;
            } else if (c == '(') {
                if (i + 1 < n && re.charAt(i + 1) == '?') {
                    // (?:, (?<name>, (?P<name>: the group's syntax, not atoms in it (translate refused the rest)
                    int j = i + 2;
                    while (j < n && re.charAt(j) != ':' && re.charAt(j) != '>' && re.charAt(j) != ')') {
                        j++;
                    }
                    i = j < n && re.charAt(j) == ')' ? j - 1 : j;
                }
                frames.push(frame);
                frame = new long[] {0, 0};
                continue;
            } else if (c == ')') {
                if (frames.isEmpty()) {
                    continue;
                }
                atomWith = frame[0];
                atomWritten = frame[1];
                frame = frames.pop();
            } else if (c == '*' || c == '+' || c == '?' || c == '|') {
                continue;
            } else if (c == '{') {
                int close = re.indexOf('}', i);
                String body = close < 0 ? "" : re.substring(i + 1, close);
                if (body.matches("[0-9]{1,9}(,[0-9]{0,9})?")) {
                    String[] bounds = body.split(",");
                    long count = Math.max(Long.parseLong(bounds[0]), bounds.length > 1 ? Long.parseLong(bounds[1]) : 0);
                    // the last atom stands count times: add the copies beyond the one already counted
                    frame[0] = saturate(frame[0] - lastWith + saturate(lastWith * Math.max(count, 1)));
                    lastWith = saturate(lastWith * Math.max(count, 1));
                    i = close;
                    continue;
                }
            }
            frame[0] = saturate(frame[0] + atomWith);
            frame[1] = saturate(frame[1] + atomWritten);
            lastWith = atomWith;
        }
        while (!frames.isEmpty()) {
            long[] inner = frame;
            frame = frames.pop();
            frame[0] = saturate(frame[0] + inner[0]);
            frame[1] = saturate(frame[1] + inner[1]);
        }
        return Math.max(0, frame[0] - frame[1]);
    }

    private static long saturate(long v) {
        return v < 0 || v > Integer.MAX_VALUE ? Integer.MAX_VALUE : v;
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
