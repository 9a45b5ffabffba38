package dev.ssekit.urlpattern;

import com.google.re2j.Matcher;
import com.google.re2j.Pattern;
import com.google.re2j.PatternSyntaxException;
import dev.ssekit.urlpattern.PatternParser.Options;
import dev.ssekit.urlpattern.PatternParser.Part;
import dev.ssekit.urlpattern.PatternParser.PartType;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.UnaryOperator;

/**
 * A compiled component of the standard: the normalised pattern string, the RE2/J expression, the
 * group names. Immutable; RE2/J patterns are thread-safe and each match makes its own matcher.
 */
final class Component {
    /**
     * How a component matches. The standard allows matching "directly against the part list when
     * possible": the common components (a wildcard {@code *}, the empty string, fixed text such as
     * {@code https} or {@code example.com}) need no regular expression; the rest run on RE2/J.
     */
    private enum Kind { EMPTY, WILDCARD, FIXED, REGEX }

    final String patternString;
    final List<String> groupNames;
    final boolean hasRegExpGroups;
    private final Kind kind;
    /** FIXED: the text; else null. */
    private final String fixed;
    /** REGEX: the compiled component; else null. */
    private final Pattern regex;
    /**
     * Per group: it is "(X)?" with nothing around it. ECMAScript rejects an iteration of a
     * quantifier that matches the empty string, so there an empty capture is "did not take part"
     * (undefined); RE2 reports the empty string.
     */
    private final boolean[] emptyIsUnmatched;
    /**
     * Text every input this component matches starts with ("" when none is known): the fixed text
     * before its first group, and that group's prefix when the group must occur once or more. Empty
     * when the component ignores case. Only ever a prefix of what the expression demands literally,
     * so an input without it never matches.
     */
    final String literalPrefix;

    private Component(String patternString, Kind kind, String fixed, Pattern regex, List<String> groupNames,
                      boolean hasRegExpGroups, boolean[] emptyIsUnmatched, String literalPrefix) {
        this.literalPrefix = literalPrefix;
        this.patternString = patternString;
        this.kind = kind;
        this.fixed = fixed;
        this.regex = regex;
        this.groupNames = groupNames;
        this.hasRegExpGroups = hasRegExpGroups;
        this.emptyIsUnmatched = emptyIsUnmatched;
    }

    /** "Compile a component"; IllegalArgumentException for an invalid pattern. */
    static Component compile(String input, UnaryOperator<String> encoding, Options options) {
        List<Part> parts = PatternParser.parse(input, options, encoding);
        List<String> names = new ArrayList<>();
        String regexString = PatternParser.generateRegex(parts, options, names, RegexTranslator::translate);
        long copies = 0;
        for (Part p : parts) {
            if (p.type() == PartType.REGEXP) {
                copies += RegexTranslator.repetitionCopies(p.value());
            }
        }
        if (copies > RegexTranslator.MAX_REPETITION_COPIES) {
            // RE2/J expands counted repetitions into copies and, unlike RE2, does not bound nested counts or their sum
            throw new IllegalArgumentException("invalid pattern '" + input + "': the counted repetitions of its regexp groups expand to "
                    + (copies >= Integer.MAX_VALUE ? "over " + Integer.MAX_VALUE : Long.toString(copies))
                    + " copies, over " + RegexTranslator.MAX_REPETITION_COPIES + " (RE2's limit on repetition)");
        }
        String patternString = PatternParser.generatePatternString(parts, options);
        String literal = literalPrefix(parts, options);
        if (parts.isEmpty()) {
            return new Component(patternString, Kind.EMPTY, null, null, List.of(), false, new boolean[0], literal);
        }
        if (parts.size() == 1) {
            Part only = parts.get(0);
            if (only.type() == PartType.FULL_WILDCARD && only.modifier() == PatternParser.Modifier.NONE
                    && only.prefix().isEmpty() && only.suffix().isEmpty()) {
                return new Component(patternString, Kind.WILDCARD, null, null, List.copyOf(names), false,
                        new boolean[1], literal);
            }
            if (only.type() == PartType.FIXED_TEXT && only.modifier() == PatternParser.Modifier.NONE
                    && !options.ignoreCase()) {
                return new Component(patternString, Kind.FIXED, only.value(), null, List.of(), false, new boolean[0],
                        literal);
            }
        }
        Pattern regex;
        try {
            regex = Pattern.compile(regexString, options.ignoreCase() ? Pattern.CASE_INSENSITIVE : 0);
        } catch (PatternSyntaxException e) {
            throw new IllegalArgumentException("invalid regular expression in pattern '" + input + "': "
                    + e.getMessage(), e);
        }
        boolean hasRegExp = false;
        List<Boolean> emptyIsUnmatched = new ArrayList<>();
        for (Part p : parts) {
            if (p.type() == PartType.REGEXP) {
                hasRegExp = true;
            }
            if (p.type() != PartType.FIXED_TEXT) {
                emptyIsUnmatched.add(p.modifier() == PatternParser.Modifier.OPTIONAL && p.prefix().isEmpty()
                        && p.suffix().isEmpty());
            }
        }
        boolean[] unmatched = new boolean[emptyIsUnmatched.size()];
        for (int i = 0; i < unmatched.length; i++) {
            unmatched[i] = emptyIsUnmatched.get(i);
        }
        return new Component(patternString, Kind.REGEX, null, regex, List.copyOf(names), hasRegExp, unmatched, literal);
    }

    /**
     * The literal text the expression {@link PatternParser#generateRegex} makes of these parts
     * demands at its start: the values of the leading fixed-text parts that must occur (modifier
     * none), then the prefix of the first other part when that part must occur (modifier none or
     * {@code +}; its prefix is outside any optional group then). Each is escaped into the
     * expression as literal text, so every match starts with their concatenation. Nothing when
     * the component ignores case (the expression is case-insensitive then).
     */
    private static String literalPrefix(List<Part> parts, Options options) {
        if (options.ignoreCase()) {
            return "";
        }
        StringBuilder b = new StringBuilder();
        for (Part p : parts) {
            if (p.type() == PartType.FIXED_TEXT) {
                if (p.modifier() != PatternParser.Modifier.NONE) {
                    break;
                }
                b.append(p.value());
                continue;
            }
            if (p.modifier() == PatternParser.Modifier.NONE || p.modifier() == PatternParser.Modifier.ONE_OR_MORE) {
                b.append(p.prefix());
            }
            break;
        }
        return b.toString();
    }

    /** The one input this component matches (fixed text, or the empty string), or null when it matches others too. */
    String exactValue() {
        return switch (kind) {
            case EMPTY -> "";
            case FIXED -> fixed;
            default -> null;
        };
    }

    /** ECMAScript's {@code .*} (no {@code v}/{@code s} flag): anything without a line terminator. */
    private static boolean noLineTerminator(String input) {
        for (int i = 0; i < input.length(); i++) {
            char c = input.charAt(i);
            if (c == '\n' || c == '\r' || c == '\u2028' || c == '\u2029') {
                return false;
            }
        }
        return true;
    }

    /** Whether the component matches its input (RegExpBuiltinExec is not null). */
    boolean test(String input) {
        return switch (kind) {
            case EMPTY -> input.isEmpty();
            case WILDCARD -> noLineTerminator(input);
            case FIXED -> input.equals(fixed);
            case REGEX -> regex.matches(input);
        };
    }

    /** "Create a component match result" when it matches; null when it does not. */
    UrlPatternComponentResult exec(String input) {
        switch (kind) {
            case EMPTY, FIXED -> {
                return test(input) ? new UrlPatternComponentResult(input, Map.of()) : null;
            }
            case WILDCARD -> {
                return test(input) ? new UrlPatternComponentResult(input, Map.of(groupNames.get(0), input)) : null;
            }
            default -> {
                Matcher m = regex.matcher(input);
                if (!m.matches()) {
                    return null;
                }
                Map<String, String> groups = new LinkedHashMap<>();
                for (int i = 1; i <= groupNames.size(); i++) {
                    String g = m.group(i);
                    if (g != null && g.isEmpty() && emptyIsUnmatched[i - 1]) {
                        g = null;
                    }
                    groups.put(groupNames.get(i - 1), g);
                }
                return new UrlPatternComponentResult(input, Collections.unmodifiableMap(groups));
            }
        }
    }
}
