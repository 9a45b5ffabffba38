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

    private Component(String patternString, Pattern regex, List<String> groupNames, boolean hasRegExpGroups) {
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
        for (Part p : parts) {
            if (p.type() == PartType.REGEXP) {
                hasRegExp = true;
                break;
            }
        }
        return new Component(PatternParser.generatePatternString(parts, options), regex,
                List.copyOf(names), hasRegExp);
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
            groups.put(groupNames.get(i - 1), m.group(i));
        }
        return new UrlPatternComponentResult(input, Collections.unmodifiableMap(groups));
    }
}
