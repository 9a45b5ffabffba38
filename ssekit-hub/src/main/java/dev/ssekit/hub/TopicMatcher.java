package dev.ssekit.hub;

import com.google.re2j.Pattern;

/**
 * A Mercure topic selector (draft-dunglas-mercure-07, "Topic selectors"): {@code *} matches every
 * topic; a selector that is a valid RFC 6570 URI template matches every topic the template could
 * expand to; any other selector matches the identical topic only. Immutable and thread-safe.
 *
 * <p>Template matching follows the expansion rules backwards, per expression type: simple
 * {@code {var}} values are unreserved characters or percent-encodings (so {@code /books/{id}}
 * matches {@code /books/1} but not {@code /books/1/2}); {@code {+var}} and {@code {#var}} also
 * allow reserved characters; {@code {/var}}, {@code {.var}}, {@code {;var}}, {@code {?var}} and
 * {@code {&var}} add their prefix and separators. Undefined variables expand to nothing, so an
 * expression may match the empty string.
 *
 * <p>Templates and topics are chosen by clients, so the expression a template compiles to runs on
 * RE2/J, which never backtracks: a match takes time linear in the topic. (On {@code
 * java.util.regex} the value pattern and the list separator both accept {@code ,}, and {@code
 * {+path}.json} against {@code a,a,a,…x} backtracked exponentially: one publish held the hub.)
 */
final class TopicMatcher {

    private static final String UNRESERVED_CHARS = "A-Za-z0-9\\-._~";
    private static final String RESERVED_CHARS = UNRESERVED_CHARS + ":/?#\\[\\]@!$&'()*+,;=";
    private static final String PCT = "%[0-9A-Fa-f]{2}";
    private static final Pattern VARSPEC = Pattern.compile("(?:[A-Za-z0-9_]|%[0-9A-Fa-f]{2})(?:\\.?(?:[A-Za-z0-9_]|%[0-9A-Fa-f]{2}))*(?::[1-9][0-9]{0,3}|\\*)?");

    /**
     * An RFC 6570 expression type: its prefix (as a regex), its separator, the characters its values
     * take (a character-class body), and whether items are {@code name=value}.
     */
    private record Operator(String first, char sep, String chars, boolean named) {
    }

    private static final Operator SIMPLE = new Operator("", ',', UNRESERVED_CHARS, false);
    private static final java.util.Map<Character, Operator> OPERATORS = java.util.Map.of(
            '+', new Operator("", ',', RESERVED_CHARS, false),
            '#', new Operator("#", ',', RESERVED_CHARS, false),
            '.', new Operator("\\.", '.', UNRESERVED_CHARS, false),
            '/', new Operator("/", '/', UNRESERVED_CHARS, false),
            ';', new Operator(";", ';', UNRESERVED_CHARS, true),
            '?', new Operator("\\?", '&', UNRESERVED_CHARS, true),
            '&', new Operator("&", '&', UNRESERVED_CHARS, true));

    /**
     * The most expressions a template may hold. A match costs the topic's length times the size of
     * the compiled template, and every publish may match every subscriber's template: the bound
     * keeps the densest template a client can send (every expression {@code {+x}}, which takes any
     * character) cheap. Real selectors hold one to three.
     */
    static final int MAX_EXPRESSIONS = 10;

    private final String selector;
    private final Pattern template;
    /** A template's literal text before its first and after its last expression: every match has them. */
    private final String prefix;
    private final String suffix;

    private TopicMatcher(String selector, Pattern template) {
        this.selector = selector;
        this.template = template;
        this.prefix = template == null ? "" : selector.substring(0, selector.indexOf('{'));
        this.suffix = template == null ? "" : selector.substring(selector.lastIndexOf('}') + 1);
    }

    /**
     * Compiles a selector; time and memory linear in its length.
     *
     * @throws IllegalArgumentException for a template of more than {@link #MAX_EXPRESSIONS}
     *     expressions (any other string is a template, an exact topic or {@code *})
     */
    static TopicMatcher of(String selector) {
        return new TopicMatcher(selector, selector.equals("*") ? null : compile(selector));
    }

    /**
     * Whether the topic matches; time linear in the topic's length (times the template's). A topic
     * without the template's literal prefix and suffix is refused in time linear in those alone:
     * the automaton, whose cost grows with the template's literal text too, runs only for topics
     * that have them.
     */
    boolean matches(String topic) {
        if (selector.equals("*") || selector.equals(topic)) {
            return true;
        }
        return template != null && topic.length() >= prefix.length() + suffix.length() && topic.startsWith(prefix)
                && topic.endsWith(suffix) && template.matches(topic);
    }

    /** A template's literal text before its first expression: every topic it matches starts with it ({@code ""} otherwise). */
    String prefix() {
        return prefix;
    }

    /** Whether the selector is a valid URI template (else it matches only {@code *} or itself). */
    boolean isTemplate() {
        return template != null;
    }

    @Override
    public String toString() {
        return selector;
    }

    /** The regular expression of a URI template, or null when the selector is not a valid template. */
    static Pattern compile(String s) {
        String re = expression(s);
        return re == null ? null : Pattern.compile(re, Pattern.DOTALL);
    }

    /**
     * The RE2 syntax of a URI template, or null when the selector is not a valid template.
     *
     * @throws IllegalArgumentException for more than {@link #MAX_EXPRESSIONS} expressions
     */
    static String expression(String s) {
        if (s.indexOf('{') < 0) {
            return null;
        }
        StringBuilder re = new StringBuilder();
        int i = 0;
        int expressions = 0;
        while (i < s.length()) {
            int open = s.indexOf('{', i);
            int close = s.indexOf('}', i);
            if (open < 0) {
                if (close >= 0) {
                    return null; // a lone '}'
                }
                re.append(Pattern.quote(s.substring(i)));
                break;
            }
            if (close >= 0 && close < open) {
                return null;
            }
            if (open > i) {
                re.append(Pattern.quote(s.substring(i, open)));
            }
            int end = s.indexOf('}', open);
            if (end < 0) {
                return null; // unclosed expression
            }
            String expr = part(s.substring(open + 1, end));
            if (expr == null) {
                return null;
            }
            if (++expressions > MAX_EXPRESSIONS) {
                throw new IllegalArgumentException("a topic selector (URI template) may hold at most " + MAX_EXPRESSIONS
                        + " expressions");
            }
            re.append(expr);
            i = end + 1;
        }
        return re.toString();
    }

    /** The regex of one expression's possible expansions, or null if it is not valid RFC 6570. */
    private static String part(String body) {
        if (body.isEmpty()) {
            return null;
        }
        char op = body.charAt(0);
        if ("=,!@|".indexOf(op) >= 0) {
            return null; // operators reserved for future extensions: not a valid template
        }
        Operator o = OPERATORS.getOrDefault(op, SIMPLE);
        String vars = OPERATORS.containsKey(op) ? body.substring(1) : body;
        for (String v : vars.split(",", -1)) {
            if (!VARSPEC.matches(v)) {
                return null;
            }
        }
        String sep = o.sep == ',' ? "" : "\\" + o.sep;
        if (!o.named) {
            // values are runs of allowed characters and commas (lists are comma-joined), items are
            // joined by the separator, and any of them may be empty: so the expansions are exactly
            // the strings of those characters, one loop instead of nested ones (several times fewer
            // automaton states, which every match pays for at every character of the topic)
            return "(?:" + o.first + "(?:[," + sep + o.chars + "]|" + PCT + ")*)?";
        }
        String value = "(?:[," + o.chars + "]|" + PCT + ")*";
        String item = "[A-Za-z0-9_.%]+(?:=" + value + ")?";
        return "(?:" + o.first + item + "(?:\\" + o.sep + item + ")*)?";
    }
}
