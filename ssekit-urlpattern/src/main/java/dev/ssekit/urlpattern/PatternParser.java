package dev.ssekit.urlpattern;

import dev.ssekit.urlpattern.Tokenizer.Token;
import dev.ssekit.urlpattern.Tokenizer.Type;
import java.util.ArrayList;
import java.util.List;
import java.util.function.UnaryOperator;

/**
 * "Parse a pattern string" of the standard, and the two generators that turn a part list back
 * into a regular expression and into a normalised pattern string. Each walks the tokens or parts
 * once; the duplicate-name check is a hash set, so the whole is linear in the pattern's length.
 */
final class PatternParser {
    enum PartType { FIXED_TEXT, REGEXP, SEGMENT_WILDCARD, FULL_WILDCARD }

    enum Modifier {
        NONE(""), OPTIONAL("?"), ZERO_OR_MORE("*"), ONE_OR_MORE("+");

        final String text;

        Modifier(String text) {
            this.text = text;
        }
    }

    record Part(PartType type, String value, Modifier modifier, String name, String prefix, String suffix) { }

    /** The standard's options struct: delimiter and prefix code points ("" or one ASCII char), ignore case. */
    record Options(String delimiter, String prefix, boolean ignoreCase) {
        static final Options DEFAULT = new Options("", "", false);
        static final Options HOSTNAME = new Options(".", "", false);
        static final Options PATHNAME = new Options("/", "/", false);

        Options withIgnoreCase(boolean ic) {
            return new Options(delimiter, prefix, ic);
        }
    }

    static final String FULL_WILDCARD = ".*";

    private final List<Token> tokens;
    private final UnaryOperator<String> encoding;
    private final String segmentWildcardRegexp;
    private final List<Part> parts = new ArrayList<>();
    private final java.util.Set<String> names = new java.util.HashSet<>();
    private final StringBuilder pending = new StringBuilder();
    private final Options options;
    private int index;
    private int nextNumericName;

    private PatternParser(List<Token> tokens, Options options, UnaryOperator<String> encoding) {
        this.tokens = tokens;
        this.options = options;
        this.encoding = encoding;
        this.segmentWildcardRegexp = segmentWildcardRegexp(options);
    }

    static String segmentWildcardRegexp(Options options) {
        return "[^" + escapeRegexpString(options.delimiter()) + "]+?";
    }

    /** Parses; throws IllegalArgumentException for an invalid pattern or a failing encoding callback. */
    static List<Part> parse(String input, Options options, UnaryOperator<String> encoding) {
        List<Token> tokens = Tokenizer.tokenize(input.codePoints().toArray(), true);
        PatternParser p = new PatternParser(tokens, options, encoding);
        p.run();
        return p.parts;
    }

    private void run() {
        while (index < tokens.size()) {
            Token charToken = tryConsume(Type.CHAR);
            Token nameToken = tryConsume(Type.NAME);
            Token regexpOrWildcard = tryConsumeRegexpOrWildcard(nameToken);
            if (nameToken != null || regexpOrWildcard != null) {
                String prefix = charToken != null ? charToken.value() : "";
                if (!prefix.isEmpty() && !prefix.equals(options.prefix())) {
                    pending.append(prefix);
                    prefix = "";
                }
                maybeAddPartFromPending();
                Token modifier = tryConsumeModifier();
                addPart(prefix, nameToken, regexpOrWildcard, "", modifier);
                continue;
            }
            Token fixed = charToken;
            if (fixed == null) {
                fixed = tryConsume(Type.ESCAPED_CHAR);
            }
            if (fixed != null) {
                pending.append(fixed.value());
                continue;
            }
            Token open = tryConsume(Type.OPEN);
            if (open != null) {
                String prefix = consumeText();
                nameToken = tryConsume(Type.NAME);
                regexpOrWildcard = tryConsumeRegexpOrWildcard(nameToken);
                String suffix = consumeText();
                consumeRequired(Type.CLOSE);
                Token modifier = tryConsumeModifier();
                addPart(prefix, nameToken, regexpOrWildcard, suffix, modifier);
                continue;
            }
            maybeAddPartFromPending();
            consumeRequired(Type.END);
        }
    }

    private Token tryConsume(Type type) {
        Token t = tokens.get(index);
        if (t.type() != type) {
            return null;
        }
        index++;
        return t;
    }

    private Token tryConsumeModifier() {
        Token t = tryConsume(Type.OTHER_MODIFIER);
        return t != null ? t : tryConsume(Type.ASTERISK);
    }

    private Token tryConsumeRegexpOrWildcard(Token nameToken) {
        Token t = tryConsume(Type.REGEXP);
        if (nameToken == null && t == null) {
            t = tryConsume(Type.ASTERISK);
        }
        return t;
    }

    private void consumeRequired(Type type) {
        if (tryConsume(type) == null) {
            Token t = tokens.get(index);
            throw new IllegalArgumentException("invalid pattern: expected " + type.name().toLowerCase(java.util.Locale.ROOT)
                    + " at index " + t.index() + ", found '" + t.value() + "'");
        }
    }

    private String consumeText() {
        StringBuilder sb = new StringBuilder();
        while (true) {
            Token t = tryConsume(Type.CHAR);
            if (t == null) {
                t = tryConsume(Type.ESCAPED_CHAR);
            }
            if (t == null) {
                return sb.toString();
            }
            sb.append(t.value());
        }
    }

    private void maybeAddPartFromPending() {
        if (pending.isEmpty()) {
            return;
        }
        String encoded = encoding.apply(pending.toString());
        pending.setLength(0);
        parts.add(new Part(PartType.FIXED_TEXT, encoded, Modifier.NONE, "", "", ""));
    }

    private void addPart(String prefix, Token nameToken, Token regexpOrWildcard, String suffix, Token modifierToken) {
        Modifier modifier = Modifier.NONE;
        if (modifierToken != null) {
            modifier = switch (modifierToken.value()) {
                case "?" -> Modifier.OPTIONAL;
                case "*" -> Modifier.ZERO_OR_MORE;
                default -> Modifier.ONE_OR_MORE;
            };
        }
        if (nameToken == null && regexpOrWildcard == null && modifier == Modifier.NONE) {
            pending.append(prefix);
            return;
        }
        maybeAddPartFromPending();
        if (nameToken == null && regexpOrWildcard == null) {
            if (prefix.isEmpty()) {
                return;
            }
            parts.add(new Part(PartType.FIXED_TEXT, encoding.apply(prefix), modifier, "", "", ""));
            return;
        }
        String regexpValue;
        if (regexpOrWildcard == null) {
            regexpValue = segmentWildcardRegexp;
        } else if (regexpOrWildcard.type() == Type.ASTERISK) {
            regexpValue = FULL_WILDCARD;
        } else {
            regexpValue = regexpOrWildcard.value();
        }
        PartType type = PartType.REGEXP;
        if (regexpValue.equals(segmentWildcardRegexp)) {
            type = PartType.SEGMENT_WILDCARD;
            regexpValue = "";
        } else if (regexpValue.equals(FULL_WILDCARD)) {
            type = PartType.FULL_WILDCARD;
            regexpValue = "";
        }
        String name = "";
        if (nameToken != null) {
            name = nameToken.value();
        } else {
            name = Integer.toString(nextNumericName++);
        }
        if (!names.add(name)) {
            throw new IllegalArgumentException("invalid pattern: duplicate group name '" + name + "'");
        }
        parts.add(new Part(type, regexpValue, modifier, name, encoding.apply(prefix), encoding.apply(suffix)));
    }

    // ------------------------------------------------------------------ generators

    static String escapeRegexpString(String s) {
        StringBuilder sb = new StringBuilder(s.length());
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (".+*?^${}()[]|/\\".indexOf(c) >= 0) {
                sb.append('\\');
            }
            sb.append(c);
        }
        return sb.toString();
    }

    static String escapePatternString(String s) {
        StringBuilder sb = new StringBuilder(s.length());
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if ("+*?:{}()\\".indexOf(c) >= 0) {
                sb.append('\\');
            }
            sb.append(c);
        }
        return sb.toString();
    }

    /**
     * "Generate a regular expression and name list". Regexp part values are ECMAScript syntax;
     * the caller translates them ({@link RegexTranslator}) before this runs.
     */
    static String generateRegex(List<Part> parts, Options options, List<String> nameList,
                                UnaryOperator<String> regexpValueTranslator) {
        StringBuilder r = new StringBuilder("^");
        for (Part part : parts) {
            if (part.type() == PartType.FIXED_TEXT) {
                if (part.modifier() == Modifier.NONE) {
                    r.append(escapeRegexpString(part.value()));
                } else {
                    r.append("(?:").append(escapeRegexpString(part.value())).append(')').append(part.modifier().text);
                }
                continue;
            }
            nameList.add(part.name());
            String value = switch (part.type()) {
                // "[^]" (empty delimiter) is ECMAScript for any code point; RE2 needs it spelled out
                case SEGMENT_WILDCARD -> options.delimiter().isEmpty() ? "(?s:.)+?" : segmentWildcardRegexp(options);
                case FULL_WILDCARD -> FULL_WILDCARD;
                default -> regexpValueTranslator.apply(part.value());
            };
            String prefix = escapeRegexpString(part.prefix());
            String suffix = escapeRegexpString(part.suffix());
            if (prefix.isEmpty() && suffix.isEmpty()) {
                if (part.modifier() == Modifier.NONE || part.modifier() == Modifier.OPTIONAL) {
                    r.append('(').append(value).append(')').append(part.modifier().text);
                } else {
                    r.append("((?:").append(value).append(')').append(part.modifier().text).append(')');
                }
                continue;
            }
            if (part.modifier() == Modifier.NONE || part.modifier() == Modifier.OPTIONAL) {
                r.append("(?:").append(prefix).append('(').append(value).append(')').append(suffix).append(')')
                        .append(part.modifier().text);
                continue;
            }
            r.append("(?:").append(prefix).append("((?:").append(value).append(")(?:").append(suffix).append(prefix)
                    .append("(?:").append(value).append("))*)").append(suffix).append(')');
            if (part.modifier() == Modifier.ZERO_OR_MORE) {
                r.append('?');
            }
        }
        r.append('$');
        return r.toString();
    }

    /** "Generate a pattern string". */
    static String generatePatternString(List<Part> parts, Options options) {
        StringBuilder result = new StringBuilder();
        for (int i = 0; i < parts.size(); i++) {
            Part part = parts.get(i);
            Part previous = i > 0 ? parts.get(i - 1) : null;
            Part next = i < parts.size() - 1 ? parts.get(i + 1) : null;
            if (part.type() == PartType.FIXED_TEXT) {
                if (part.modifier() == Modifier.NONE) {
                    result.append(escapePatternString(part.value()));
                    continue;
                }
                result.append('{').append(escapePatternString(part.value())).append('}').append(part.modifier().text);
                continue;
            }
            boolean customName = !WhatwgUrl.isAsciiDigit(part.name().charAt(0));
            boolean needsGrouping = !part.suffix().isEmpty()
                    || (!part.prefix().isEmpty() && !part.prefix().equals(options.prefix()));
            if (!needsGrouping && customName && part.type() == PartType.SEGMENT_WILDCARD
                    && part.modifier() == Modifier.NONE && next != null && next.prefix().isEmpty()
                    && next.suffix().isEmpty()) {
                if (next.type() == PartType.FIXED_TEXT) {
                    needsGrouping = !next.value().isEmpty()
                            && Tokenizer.validNameCodePoint(next.value().codePointAt(0), false);
                } else {
                    needsGrouping = WhatwgUrl.isAsciiDigit(next.name().charAt(0));
                }
            }
            if (!needsGrouping && part.prefix().isEmpty() && previous != null
                    && previous.type() == PartType.FIXED_TEXT && !previous.value().isEmpty()
                    && !options.prefix().isEmpty() && previous.value().endsWith(options.prefix())) {
                needsGrouping = true;
            }
            if (needsGrouping) {
                result.append('{');
            }
            result.append(escapePatternString(part.prefix()));
            if (customName) {
                result.append(':').append(part.name());
            }
            if (part.type() == PartType.REGEXP) {
                result.append('(').append(part.value()).append(')');
            } else if (part.type() == PartType.SEGMENT_WILDCARD && !customName) {
                result.append('(').append(segmentWildcardRegexp(options)).append(')');
            } else if (part.type() == PartType.FULL_WILDCARD) {
                if (!customName && (previous == null || previous.type() == PartType.FIXED_TEXT
                        || previous.modifier() != Modifier.NONE || needsGrouping || !part.prefix().isEmpty())) {
                    result.append('*');
                } else {
                    result.append('(').append(FULL_WILDCARD).append(')');
                }
            }
            if (part.type() == PartType.SEGMENT_WILDCARD && customName && !part.suffix().isEmpty()
                    && Tokenizer.validNameCodePoint(part.suffix().codePointAt(0), false)) {
                result.append('\\');
            }
            result.append(escapePatternString(part.suffix()));
            if (needsGrouping) {
                result.append('}');
            }
            result.append(part.modifier().text);
        }
        return result.toString();
    }
}
