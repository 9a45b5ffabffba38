package dev.ssekit;

/**
 * Matches a glob ({@code *}: any run of characters other than {@code /}; {@code **}: any run at
 * all; anything else: itself) against a topic by simulating its automaton over a set of states, as
 * Thompson's construction does: one pass over the topic, at most one step per glob token for each
 * character, so a match costs O(topic length × glob length) and never backtracks. (The regular
 * expressions globs used to compile to backtracked exponentially on topics like {@code aaaa…} against
 * {@code **a**a**a**b}.) Immutable and thread-safe; each match allocates two small bit sets.
 */
final class GlobMatcher {

    private static final char LITERAL = 0;
    private static final char STAR = 1;
    private static final char DOUBLE_STAR = 2;

    /** Token kinds and, for literals, their characters; the accepting state is {@code kinds.length}. */
    private final char[] kinds;
    private final char[] chars;

    /** Compiles a glob; linear in its length; any string is a glob. */
    GlobMatcher(String glob) {
        int n = 0;
        char[] k = new char[glob.length()];
        char[] c = new char[glob.length()];
        for (int i = 0; i < glob.length(); i++) {
            char ch = glob.charAt(i);
            if (ch == '*' && i + 1 < glob.length() && glob.charAt(i + 1) == '*') {
                k[n++] = DOUBLE_STAR;
                i++;
            } else if (ch == '*') {
                k[n++] = STAR;
            } else {
                k[n] = LITERAL;
                c[n++] = ch;
            }
        }
        this.kinds = java.util.Arrays.copyOf(k, n);
        this.chars = java.util.Arrays.copyOf(c, n);
    }

    /** Whether the whole topic matches; time O(topic length × glob length), never backtracking. */
    boolean matches(String topic) {
        int states = kinds.length + 1;
        long[] current = new long[(states + 63) >>> 6];
        long[] next = new long[current.length];
        add(current, 0);
        for (int at = 0; at < topic.length(); at++) {
            char ch = topic.charAt(at);
            java.util.Arrays.fill(next, 0L);
            boolean any = false;
            for (int s = 0; s < kinds.length; s++) {
                if ((current[s >>> 6] & (1L << s)) == 0) {
                    continue;
                }
                switch (kinds[s]) {
                    case LITERAL -> {
                        if (chars[s] == ch) {
                            any |= add(next, s + 1);
                        }
                    }
                    case STAR -> {
                        if (ch != '/') {
                            any |= add(next, s);
                        }
                    }
                    default -> any |= add(next, s);
                }
            }
            if (!any) {
                return false;
            }
            long[] t = current;
            current = next;
            next = t;
        }
        return (current[kinds.length >>> 6] & (1L << kinds.length)) != 0;
    }

    /**
     * Adds a state and every state reachable from it without reading a character (a star may
     * match nothing); returns true. A state already in the set has its followers there too (they
     * were added with it), so the walk stops there: each state is entered at most once per
     * character, even in a run of stars (walking the rest of the run from every live star made a
     * glob of only stars cost its length squared per character).
     */
    private boolean add(long[] set, int state) {
        int s = state;
        while ((set[s >>> 6] & (1L << s)) == 0) {
            set[s >>> 6] |= 1L << s;
            if (s == kinds.length || kinds[s] == LITERAL) {
                return true;
            }
            s++;
        }
        return true;
    }
}
