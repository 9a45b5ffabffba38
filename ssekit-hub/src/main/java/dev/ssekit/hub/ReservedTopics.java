package dev.ssekit.hub;

import dev.ssekit.urlpattern.UrlPattern;
import dev.ssekit.urlpattern.UrlPatternInit;

/**
 * The hub's own namespace (draft-dunglas-mercure-08 L365-383, L1684-1705): a published topic is
 * resolved against the hub URL with the WHATWG URL parser (dot-segments removed), after
 * percent-encoded unreserved octets are decoded; if its path is the hub path or under it, whatever
 * its scheme and host, it is reserved and the publish is refused with 400 whatever the token. So
 * relative topics such as {@code mercure}, {@code mercure/x}, {@code ?q} and {@code #f} are
 * reserved too. A topic that does not parse as a URL is not reserved. Thread-safe, immutable.
 */
final class ReservedTopics {

    private final String hubUrl;
    private final UrlPattern exact;
    private final UrlPattern under;

    /**
     * @param hubUrl the absolute hub URL; its path is the reserved one
     * @throws IllegalArgumentException if it is not an absolute URL
     */
    ReservedTopics(String hubUrl) {
        this.hubUrl = hubUrl;
        String path = java.net.URI.create(hubUrl).getRawPath();
        String escaped = escape(path.isEmpty() ? "/" : path);
        this.exact = UrlPattern.compile(new UrlPatternInit(null, null, null, null, null, escaped, null, null, null));
        this.under = UrlPattern.compile(new UrlPatternInit(null, null, null, null, null,
                escaped + (escaped.endsWith("/") ? "*" : "/*"), null, null, null));
    }

    /** Whether the topic is in the hub's namespace. Linear in the topic's length. */
    boolean reserved(String topic) {
        String t = decodeUnreserved(topic);
        try {
            return exact.test(t, hubUrl) || under.test(t, hubUrl);
        } catch (RuntimeException e) {
            return false; // does not parse: allowed (L379)
        }
    }

    /** Escapes URL Pattern syntax characters in a literal path. */
    private static String escape(String literal) {
        StringBuilder b = new StringBuilder(literal.length() + 8);
        for (char c : literal.toCharArray()) {
            if ("\\:*(){}+?".indexOf(c) >= 0) {
                b.append('\\');
            }
            b.append(c);
        }
        return b.toString();
    }

    /** Decodes {@code %XX} escapes of unreserved characters (ALPHA, DIGIT, {@code - . _ ~}); leaves the others. */
    static String decodeUnreserved(String s) {
        if (s.indexOf('%') < 0) {
            return s;
        }
        StringBuilder b = new StringBuilder(s.length());
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c == '%' && i + 2 < s.length()) {
                int v = Character.digit(s.charAt(i + 1), 16) * 16 + Character.digit(s.charAt(i + 2), 16);
                if (Character.digit(s.charAt(i + 1), 16) >= 0 && Character.digit(s.charAt(i + 2), 16) >= 0
                        && (Character.isLetterOrDigit(v) && v < 0x80 || v == '-' || v == '.' || v == '_' || v == '~')) {
                    b.append((char) v);
                    i += 2;
                    continue;
                }
            }
            b.append(c);
        }
        return b.toString();
    }
}
