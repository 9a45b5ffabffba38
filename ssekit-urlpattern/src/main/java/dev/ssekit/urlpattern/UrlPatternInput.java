package dev.ssekit.urlpattern;

import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * A URL parsed once by the WHATWG URL parser, ready to be tested against many patterns: {@link
 * UrlPattern#test(UrlPatternInput)} and {@link UrlPattern#exec(UrlPatternInput)} give exactly what
 * {@link UrlPattern#test(String, String)} and {@link UrlPattern#exec(String, String)} give for the
 * strings it was parsed from, without parsing them again. Use it when one URL meets many patterns
 * (a router, a hub deciding which subscriptions a topic reaches).
 *
 * <p>Instances are immutable and thread-safe: parse once, share between threads.
 */
public final class UrlPatternInput {
    private final List<Object> inputs;
    private final WhatwgUrl url; // never mutated after construction; only read (as a base too)
    final String protocol;
    final String username;
    final String password;
    final String hostname;
    final String port;
    final String pathname;
    final String search;
    final String hash;

    private UrlPatternInput(List<Object> inputs, WhatwgUrl url) {
        this.inputs = inputs;
        this.url = url;
        protocol = url.scheme;
        username = url.username;
        password = url.password;
        hostname = url.host == null ? "" : url.host;
        port = url.portString();
        pathname = url.pathString();
        search = url.query == null ? "" : url.query;
        hash = url.fragment == null ? "" : url.fragment;
    }

    /**
     * Parses an absolute URL.
     *
     * @param input an absolute URL
     * @return the parsed URL, or empty if it does not parse
     * @throws NullPointerException if {@code input} is null
     */
    public static Optional<UrlPatternInput> parse(String input) {
        return parse(input, null);
    }

    /**
     * Parses a URL resolved against a base URL, as {@link UrlPattern#test(String, String)} does.
     *
     * @param input a URL, relative to {@code baseUrl}
     * @param baseUrl the base URL, or null for none
     * @return the parsed URL, or empty if either does not parse
     * @throws NullPointerException if {@code input} is null
     */
    public static Optional<UrlPatternInput> parse(String input, String baseUrl) {
        Objects.requireNonNull(input, "input");
        if (baseUrl == null) {
            WhatwgUrl url = WhatwgUrl.parse(input, null);
            return url == null ? Optional.empty() : Optional.of(new UrlPatternInput(List.of(input), url));
        }
        WhatwgUrl base = WhatwgUrl.parse(baseUrl, null);
        if (base == null) {
            return Optional.empty();
        }
        WhatwgUrl url = WhatwgUrl.parse(input, base);
        return url == null ? Optional.empty() : Optional.of(new UrlPatternInput(List.of(input, baseUrl), url));
    }

    /**
     * Parses a URL resolved against this one, without parsing this one again: the same URL as {@code
     * parse(input, s)} where {@code s} is the first of this one's {@link #inputs()} (its string), and
     * its {@link #inputs()} are {@code input} and that string.
     *
     * @param input a URL, relative to this one
     * @return the parsed URL, or empty if it does not parse
     * @throws NullPointerException if {@code input} is null
     */
    public Optional<UrlPatternInput> resolve(String input) {
        Objects.requireNonNull(input, "input");
        WhatwgUrl resolved = WhatwgUrl.parse(input, url);
        return resolved == null ? Optional.empty()
                : Optional.of(new UrlPatternInput(List.of(input, inputs.get(0)), resolved));
    }

    /**
     * The strings this URL was parsed from: the input, then the base URL if one was given. What
     * {@link UrlPatternResult#inputs()} holds after {@link UrlPattern#exec(UrlPatternInput)}.
     *
     * @return an unmodifiable list of one or two strings
     */
    public List<Object> inputs() {
        return inputs;
    }

    /**
     * The protocol (scheme) the URL parser gave, lower case, without its {@code ':'}: what a
     * pattern's protocol component is tested against.
     *
     * @return the protocol
     */
    public String protocol() {
        return protocol;
    }

    /**
     * The host as the URL parser serialises it ({@code ""} when the URL has none): what a
     * pattern's hostname component is tested against.
     *
     * @return the hostname
     */
    public String hostname() {
        return hostname;
    }

    /**
     * The path as the URL parser serialises it (percent-encoded, dot segments removed): what a
     * pattern's pathname component is tested against.
     *
     * @return the pathname
     */
    public String pathname() {
        return pathname;
    }

    @Override
    public String toString() {
        return "UrlPatternInput" + inputs;
    }
}
