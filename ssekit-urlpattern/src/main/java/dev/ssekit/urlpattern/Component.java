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
    final String patternString;
    final Pattern regex;
    final List<String> groupNames;
    final boolean hasRegExpGroups;
    /**
     * Per group: it is "(X)?" with nothing around it. ECMAScript rejects an iteration of a
     * quantifier that matches the empty string, so there an empty capture is "did not take part"
     * (undefined); RE2 reports the empty string.
     */
    private final boolean[] emptyIsUnmatched;

    private Component(String patternString, Pattern regex, List<String> groupNames, boolean hasRegExpGroups,
                      boolean[] emptyIsUnmatched) {
        this.emptyIsUnmatched = emptyIsUnmatched;
        this.patternString = patternString;
        this.regex = regex;
        this.groupNames = groupNames;
        this.hasRegExpGroups = hasRegExpGroups;
    }

    /** "Compile a component"; IllegalArgumentException for an invalid pattern. */
    static Component compile(String input, UnaryOperator<String> encoding, Options options) {
        List<Part> parts = PatternParser.parse(input, options, encoding);
        List<String> names = new ArrayList<>();
        String regexString = PatternParser.generateRegex(parts, options, names, RegexTranslator::translate);
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
        return new Component(PatternParser.generatePatternString(parts, options), regex,
                List.copyOf(names), hasRegExp, unmatched);
    }

    /** RegExpBuiltinExec: the matcher on a match, null otherwise. */
    Matcher exec(String input) {
        Matcher m = regex.matcher(input);
        return m.matches() ? m : null;
    }

    boolean test(String input) {
        return regex.matches(input);
    }

    UrlPatternComponentResult result(String input, Matcher m) {
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
