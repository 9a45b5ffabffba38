package dev.ssekit.urlpattern;

import java.util.ArrayList;
import java.util.List;

/**
 * The URL Pattern tokenizer ("tokenize" of the standard): one pass over the code points, so linear
 * in the pattern's length. Stateless; {@link #tokenize} is safe from any thread.
 */
final class Tokenizer {
    enum Type { OPEN, CLOSE, REGEXP, NAME, CHAR, ESCAPED_CHAR, OTHER_MODIFIER, ASTERISK, END, INVALID_CHAR }

    record Token(Type type, int index, String value) { }

    private final int[] input;
    private final boolean strict;
    private final List<Token> tokens = new ArrayList<>();
    private int index;
    private int nextIndex;
    private int codePoint;

    private Tokenizer(int[] input, boolean strict) {
        this.input = input;
        this.strict = strict;
    }

    /** Tokenizes; strict policy throws IllegalArgumentException where lenient adds invalid-char. */
    static List<Token> tokenize(int[] input, boolean strict) {
        Tokenizer t = new Tokenizer(input, strict);
        t.run();
        return t.tokens;
    }

    private void run() {
        int n = input.length;
        while (index < n) {
            seekAndGet(index);
            int cp = codePoint;
            if (cp == '*') {
                addDefault(Type.ASTERISK);
                continue;
            }
            if (cp == '+' || cp == '?') {
                addDefault(Type.OTHER_MODIFIER);
                continue;
            }
            if (cp == '\\') {
                if (index == n - 1) {
                    error(nextIndex, index, "a pattern ends in a lone backslash");
                    continue;
                }
                int escapedIndex = nextIndex;
                getNext();
                add(Type.ESCAPED_CHAR, nextIndex, escapedIndex, nextIndex - escapedIndex);
                continue;
            }
            if (cp == '{') {
                addDefault(Type.OPEN);
                continue;
            }
            if (cp == '}') {
                addDefault(Type.CLOSE);
                continue;
            }
            if (cp == ':') {
                int namePosition = nextIndex;
                int nameStart = namePosition;
                while (namePosition < n) {
                    seekAndGet(namePosition);
                    if (!validNameCodePoint(codePoint, namePosition == nameStart)) {
                        break;
                    }
                    namePosition = nextIndex;
                }
                if (namePosition <= nameStart) {
                    error(nameStart, index, "a ':' is not followed by a group name");
                    continue;
                }
                add(Type.NAME, namePosition, nameStart, namePosition - nameStart);
                continue;
            }
            if (cp == '(') {
                int depth = 1;
                int regexpPosition = nextIndex;
                int regexpStart = regexpPosition;
                boolean error = false;
                while (regexpPosition < n) {
                    seekAndGet(regexpPosition);
                    if (codePoint > 0x7F) {
                        error(regexpStart, index, "a regexp group holds a non-ASCII code point");
                        error = true;
                        break;
                    }
                    if (regexpPosition == regexpStart && codePoint == '?') {
                        error(regexpStart, index, "a regexp group starts with '?'");
                        error = true;
                        break;
                    }
                    if (codePoint == '\\') {
                        if (regexpPosition == n - 1) {
                            error(regexpStart, index, "a regexp group ends in a backslash");
                            error = true;
                            break;
                        }
                        getNext();
                        if (codePoint > 0x7F) {
                            error(regexpStart, index, "a regexp group holds a non-ASCII code point");
                            error = true;
                            break;
                        }
                        regexpPosition = nextIndex;
                        continue;
                    }
                    if (codePoint == ')') {
                        depth--;
                        if (depth == 0) {
                            regexpPosition = nextIndex;
                            break;
                        }
                    } else if (codePoint == '(') {
                        depth++;
                        if (regexpPosition == n - 1) {
                            error(regexpStart, index, "a regexp group is not closed");
                            error = true;
                            break;
                        }
                        int temporaryPosition = nextIndex;
                        getNext();
                        if (codePoint != '?') {
                            error(regexpStart, index, "a regexp group holds a capturing group");
                            error = true;
                            break;
                        }
                        nextIndex = temporaryPosition;
                    }
                    regexpPosition = nextIndex;
                }
                if (error) {
                    continue;
                }
                if (depth != 0) {
                    error(regexpStart, index, "a regexp group is not closed");
                    continue;
                }
                int regexpLength = regexpPosition - regexpStart - 1;
                if (regexpLength == 0) {
                    error(regexpStart, index, "a regexp group is empty");
                    continue;
                }
                add(Type.REGEXP, regexpPosition, regexpStart, regexpLength);
                continue;
            }
            addDefault(Type.CHAR);
        }
        add(Type.END, index, index, 0);
    }

    private void getNext() {
        codePoint = input[nextIndex];
        nextIndex++;
    }

    private void seekAndGet(int i) {
        nextIndex = i;
        getNext();
    }

    private void add(Type type, int nextPosition, int valuePosition, int valueLength) {
        tokens.add(new Token(type, index, new String(input, valuePosition, valueLength)));
        index = nextPosition;
    }

    private void addDefault(Type type) {
        add(type, nextIndex, index, nextIndex - index);
    }

    private void error(int nextPosition, int valuePosition, String what) {
        if (strict) {
            throw new IllegalArgumentException("invalid pattern: " + what + " at index " + valuePosition);
        }
        add(Type.INVALID_CHAR, nextPosition, valuePosition, nextPosition - valuePosition);
    }

    static boolean validNameCodePoint(int cp, boolean first) {
        if (cp == '$' || cp == '_') {
            return true;
        }
        if (first) {
            return Character.isUnicodeIdentifierStart(cp);
        }
        if (cp == 0x200C || cp == 0x200D) {
            return true;
        }
        return Character.isUnicodeIdentifierPart(cp) && !Character.isIdentifierIgnorable(cp);
    }
}
