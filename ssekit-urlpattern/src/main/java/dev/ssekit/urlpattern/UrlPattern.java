package dev.ssekit.urlpattern;

import dev.ssekit.urlpattern.PatternParser.Options;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * A compiled URL pattern of the WHATWG URL Pattern Living Standard (https://urlpattern.spec.whatwg.org/),
 * the standard's {@code URLPattern} class: {@code https://example.com/books/:id},
 * {@code /items/:n(\\d+)}, {@code *}, {@code {...}?}.
 *
 * <p>Patterns compile to RE2/J expressions, so matching is linear in the input whatever the pattern.
 * A regexp group that RE2/J cannot express (look-ahead, look-behind, back-references, the {@code v}
 * flag's class set notation) is rejected at compile time with an {@link IllegalArgumentException}
 * that names the construct. Invalid patterns, and invalid inputs where the standard throws a
 * {@code TypeError}, throw {@link IllegalArgumentException}; {@code test}/{@code exec} of an input
 * that does not parse as a URL return false / empty. A null argument other than a base URL throws
 * {@link NullPointerException}.
 *
 * <p>Instances are immutable and thread-safe: share one compiled pattern between threads.
 */
public final class UrlPattern {
    private final Component protocol;
    private final Component username;
    private final Component password;
    private final Component hostname;
    private final Component port;
    private final Component pathname;
    private final Component search;
    private final Component hash;

    private UrlPattern(Component[] c) {
        protocol = c[0];
        username = c[1];
        password = c[2];
        hostname = c[3];
        port = c[4];
        pathname = c[5];
        search = c[6];
        hash = c[7];
    }

    private static final UrlPatternOptions DEFAULT_OPTIONS = new UrlPatternOptions(false);

    /**
     * Compiles an absolute pattern string, such as {@code https://example.com/books/:id}.
     *
     * @param input the pattern; it must give a protocol
     * @return the compiled pattern
     * @throws IllegalArgumentException if the pattern is invalid or relative
     * @throws NullPointerException if {@code input} is null
     */
    public static UrlPattern compile(String input) {
        return compile(input, null, DEFAULT_OPTIONS);
    }

    /**
     * Compiles a pattern string relative to a base URL.
     *
     * @param input the pattern
     * @param baseUrl the base URL, or null for none (then {@code input} must be absolute)
     * @return the compiled pattern
     * @throws IllegalArgumentException if the pattern or the base URL is invalid
     * @throws NullPointerException if {@code input} is null
     */
    public static UrlPattern compile(String input, String baseUrl) {
        return compile(input, baseUrl, DEFAULT_OPTIONS);
    }

    /**
     * Compiles a pattern given per component with the default options.
     *
     * @param init the components; those not given become {@code *} or come from its base URL
     * @return the compiled pattern
     * @throws IllegalArgumentException if a component pattern or the base URL is invalid
     * @throws NullPointerException if {@code init} is null
     */
    public static UrlPattern compile(UrlPatternInit init) {
        return compile(init, DEFAULT_OPTIONS);
    }

    /**
     * Compiles a pattern string with options.
     *
     * @param input the pattern
     * @param baseUrl the base URL, or null for none (then {@code input} must be absolute)
     * @param options the options
     * @return the compiled pattern
     * @throws IllegalArgumentException if the pattern or the base URL is invalid
     * @throws NullPointerException if {@code input} or {@code options} is null
     */
    public static UrlPattern compile(String input, String baseUrl, UrlPatternOptions options) {
        Objects.requireNonNull(input, "input");
        Objects.requireNonNull(options, "options");
        Canon.Init init = ConstructorStringParser.parse(input);
        if (baseUrl == null && init.protocol == null) {
            throw new IllegalArgumentException("relative pattern '" + input + "' without a base URL");
        }
        if (baseUrl != null) {
            init.baseURL = baseUrl;
        }
        return create(init, options);
    }

    /**
     * Compiles a pattern given per component.
     *
     * @param init the components; those not given become {@code *} or come from its base URL
     * @param options the options
     * @return the compiled pattern
     * @throws IllegalArgumentException if a component pattern or the base URL is invalid
     * @throws NullPointerException if {@code init} or {@code options} is null
     */
    public static UrlPattern compile(UrlPatternInit init, UrlPatternOptions options) {
        Objects.requireNonNull(init, "init");
        Objects.requireNonNull(options, "options");
        return create(Canon.Init.of(init), options);
    }

    private static UrlPattern create(Canon.Init init, UrlPatternOptions options) {
        Canon.Init p = Canon.process(init, true, null);
        p.protocol = p.protocol == null ? "*" : p.protocol;
        p.username = p.username == null ? "*" : p.username;
        p.password = p.password == null ? "*" : p.password;
        p.hostname = p.hostname == null ? "*" : p.hostname;
        p.port = p.port == null ? "*" : p.port;
        p.pathname = p.pathname == null ? "*" : p.pathname;
        p.search = p.search == null ? "*" : p.search;
        p.hash = p.hash == null ? "*" : p.hash;
        if (WhatwgUrl.isSpecialScheme(p.protocol)
                && p.port.equals(Integer.toString(WhatwgUrl.defaultPort(p.protocol)))) {
            p.port = "";
        }
        Component[] c = new Component[8];
        c[0] = Component.compile(p.protocol, Canon::protocol, Options.DEFAULT);
        c[1] = Component.compile(p.username, Canon::username, Options.DEFAULT);
        c[2] = Component.compile(p.password, Canon::password, Options.DEFAULT);
        c[3] = Component.compile(p.hostname, isIpv6Pattern(p.hostname) ? Canon::ipv6Hostname : Canon::hostname,
                Options.HOSTNAME);
        c[4] = Component.compile(p.port, v -> Canon.port(v, null), Options.DEFAULT);
        Options compileOptions = Options.DEFAULT.withIgnoreCase(options.ignoreCase());
        if (matchesSpecialScheme(c[0])) {
            c[5] = Component.compile(p.pathname, Canon::pathname, Options.PATHNAME.withIgnoreCase(options.ignoreCase()));
        } else {
            c[5] = Component.compile(p.pathname, Canon::opaquePathname, compileOptions);
        }
        c[6] = Component.compile(p.search, Canon::search, compileOptions);
        c[7] = Component.compile(p.hash, Canon::hash, compileOptions);
        return new UrlPattern(c);
    }

    static boolean matchesSpecialScheme(Component protocol) {
        for (String s : new String[] {"ftp", "file", "http", "https", "ws", "wss"}) {
            if (protocol.test(s)) {
                return true;
            }
        }
        return false;
    }

    private static boolean isIpv6Pattern(String s) {
        if (s.length() < 2) {
            return false;
        }
        char a = s.charAt(0);
        char b = s.charAt(1);
        return a == '[' || ((a == '{' || a == '\\') && b == '[');
    }

    // ------------------------------------------------------------------ matching

    /**
     * Whether a URL matches.
     *
     * @param input an absolute URL
     * @return true if it parses and matches; false otherwise
     * @throws NullPointerException if {@code input} is null
     */
    public boolean test(String input) {
        return match(input, null, false) != null;
    }

    /**
     * Whether a URL, resolved against a base URL, matches.
     *
     * @param input a URL, relative to {@code baseUrl}
     * @param baseUrl the base URL, or null for none
     * @return true if both parse and the result matches; false otherwise
     * @throws NullPointerException if {@code input} is null
     */
    public boolean test(String input, String baseUrl) {
        return match(input, baseUrl, false) != null;
    }

    /**
     * Whether a URL given per component matches; components not given are empty or come from its
     * base URL.
     *
     * @param input the components
     * @return true if they canonicalise and match; false otherwise
     * @throws NullPointerException if {@code input} is null
     */
    public boolean test(UrlPatternInit input) {
        return matchInit(input, false) != null;
    }

    /**
     * Matches a URL and returns what each component's groups captured.
     *
     * @param input an absolute URL
     * @return the result, or empty if the URL does not parse or does not match
     * @throws NullPointerException if {@code input} is null
     */
    public Optional<UrlPatternResult> exec(String input) {
        return Optional.ofNullable(match(input, null, true));
    }

    /**
     * Matches a URL resolved against a base URL and returns what each component's groups captured.
     *
     * @param input a URL, relative to {@code baseUrl}
     * @param baseUrl the base URL, or null for none
     * @return the result, or empty if a URL does not parse or the result does not match
     * @throws NullPointerException if {@code input} is null
     */
    public Optional<UrlPatternResult> exec(String input, String baseUrl) {
        return Optional.ofNullable(match(input, baseUrl, true));
    }

    /**
     * Matches a URL given per component and returns what each component's groups captured.
     *
     * @param input the components
     * @return the result, or empty if the components do not canonicalise or do not match
     * @throws NullPointerException if {@code input} is null
     */
    public Optional<UrlPatternResult> exec(UrlPatternInit input) {
        return Optional.ofNullable(matchInit(input, true));
    }

    /**
     * Whether a URL parsed beforehand matches: the same answer as {@link #test(String, String)} for
     * the strings it was parsed from, without parsing them again.
     *
     * @param input the parsed URL
     * @return true if it matches
     * @throws NullPointerException if {@code input} is null
     */
    public boolean test(UrlPatternInput input) {
        return match(input, false) != null;
    }

    /**
     * Matches a URL parsed beforehand and returns what each component's groups captured: the same
     * result as {@link #exec(String, String)} for the strings it was parsed from, without parsing
     * them again.
     *
     * @param input the parsed URL
     * @return the result, or empty if it does not match
     * @throws NullPointerException if {@code input} is null
     */
    public Optional<UrlPatternResult> exec(UrlPatternInput input) {
        return Optional.ofNullable(match(input, true));
    }

    private UrlPatternResult match(UrlPatternInput in, boolean exec) {
        Objects.requireNonNull(in, "input");
        return run(in.inputs(), in.protocol, in.username, in.password, in.hostname, in.port, in.pathname,
                in.search, in.hash, exec);
    }

    private UrlPatternResult match(String input, String baseUrl, boolean exec) {
        Objects.requireNonNull(input, "input");
        WhatwgUrl base = null;
        List<Object> inputs = new ArrayList<>(2);
        inputs.add(input);
        if (baseUrl != null) {
            base = WhatwgUrl.parse(baseUrl, null);
            if (base == null) {
                return null;
            }
            inputs.add(baseUrl);
        }
        WhatwgUrl url = WhatwgUrl.parse(input, base);
        if (url == null) {
            return null;
        }
        return run(inputs, url.scheme, url.username, url.password, url.host == null ? "" : url.host,
                url.portString(), url.pathString(), url.query == null ? "" : url.query,
                url.fragment == null ? "" : url.fragment, exec);
    }

    private UrlPatternResult matchInit(UrlPatternInit input, boolean exec) {
        Objects.requireNonNull(input, "input");
        Canon.Init r;
        try {
            r = Canon.process(Canon.Init.of(input), false, "");
        } catch (IllegalArgumentException e) {
            return null;
        }
        return run(List.of(input), r.protocol, r.username, r.password, r.hostname, r.port, r.pathname, r.search,
                r.hash, exec);
    }

    private UrlPatternResult run(List<Object> inputs, String protocolIn, String usernameIn, String passwordIn,
                                 String hostnameIn, String portIn, String pathnameIn, String searchIn,
                                 String hashIn, boolean exec) {
        if (!exec) {
            boolean ok = protocol.test(protocolIn) && username.test(usernameIn) && password.test(passwordIn)
                    && hostname.test(hostnameIn) && port.test(portIn) && pathname.test(pathnameIn)
                    && search.test(searchIn) && hash.test(hashIn);
            return ok ? PLACEHOLDER : null;
        }
        // the test first: it runs without capture groups, which is most of RE2/J's cost, so an input that
        // does not match costs what test costs
        if (run(inputs, protocolIn, usernameIn, passwordIn, hostnameIn, portIn, pathnameIn, searchIn, hashIn,
                false) == null) {
            return null;
        }
        UrlPatternComponentResult r0 = protocol.exec(protocolIn);
        UrlPatternComponentResult r1 = r0 == null ? null : username.exec(usernameIn);
        UrlPatternComponentResult r2 = r1 == null ? null : password.exec(passwordIn);
        UrlPatternComponentResult r3 = r2 == null ? null : hostname.exec(hostnameIn);
        UrlPatternComponentResult r4 = r3 == null ? null : port.exec(portIn);
        UrlPatternComponentResult r5 = r4 == null ? null : pathname.exec(pathnameIn);
        UrlPatternComponentResult r6 = r5 == null ? null : search.exec(searchIn);
        UrlPatternComponentResult r7 = r6 == null ? null : hash.exec(hashIn);
        if (r7 == null) {
            return null;
        }
        return new UrlPatternResult(Collections.unmodifiableList(inputs), r0, r1, r2, r3, r4, r5, r6, r7);
    }

    private static final UrlPatternResult PLACEHOLDER = new UrlPatternResult(List.of(), null, null, null, null,
            null, null, null, null);

    // ------------------------------------------------------------------ the components

    /**
     * The normalised protocol component pattern.
     *
     * @return the pattern string
     */
    public String protocol() {
        return protocol.patternString;
    }

    /**
     * The normalised username component pattern.
     *
     * @return the pattern string
     */
    public String username() {
        return username.patternString;
    }

    /**
     * The normalised password component pattern.
     *
     * @return the pattern string
     */
    public String password() {
        return password.patternString;
    }

    /**
     * The normalised hostname component pattern.
     *
     * @return the pattern string
     */
    public String hostname() {
        return hostname.patternString;
    }

    /**
     * The normalised port component pattern.
     *
     * @return the pattern string
     */
    public String port() {
        return port.patternString;
    }

    /**
     * The normalised pathname component pattern.
     *
     * @return the pattern string
     */
    public String pathname() {
        return pathname.patternString;
    }

    /**
     * The normalised search component pattern.
     *
     * @return the pattern string
     */
    public String search() {
        return search.patternString;
    }

    /**
     * The normalised hash component pattern.
     *
     * @return the pattern string
     */
    public String hash() {
        return hash.patternString;
    }

    /**
     * The protocol every URL this pattern matches has, when its protocol component is fixed text
     * ({@code https} in {@code https://example.com/*}, and in a relative pattern compiled against an
     * {@code https} base URL). For indexing many patterns: a URL whose {@link UrlPatternInput#protocol()}
     * differs never matches.
     *
     * @return the protocol, without its {@code ':'}; empty when the component matches more than one
     */
    public Optional<String> fixedProtocol() {
        return Optional.ofNullable(protocol.exactValue());
    }

    /**
     * The hostname every URL this pattern matches has, when its hostname component is fixed text
     * (or empty): {@code example.com} in {@code https://example.com/*}, not {@code *.example.com}.
     * For indexing many patterns: a URL whose {@link UrlPatternInput#hostname()} differs never matches.
     *
     * @return the hostname, as the URL parser serialises it; empty when the component matches more than one
     */
    public Optional<String> fixedHostname() {
        return Optional.ofNullable(hostname.exactValue());
    }

    /**
     * Text every pathname this pattern matches starts with: the pathname component's fixed text up
     * to its first group, with that group's prefix when the group must occur ({@code /books/} for
     * {@code /books/:id}, {@code /books} for {@code /books{/:id}?}, {@code ""} for {@code *} or with
     * {@code ignoreCase}). Conservative: a URL whose {@link UrlPatternInput#pathname()} does not start
     * with it never matches; one that does may or may not.
     *
     * @return the prefix, percent-encoded as the component is; maybe empty
     */
    public String pathnamePrefix() {
        return pathname.literalPrefix;
    }

    /**
     * Whether any component has a custom regular expression group such as {@code (\d+)}.
     *
     * @return true if it has
     */
    public boolean hasRegExpGroups() {
        return protocol.hasRegExpGroups || username.hasRegExpGroups || password.hasRegExpGroups
                || hostname.hasRegExpGroups || port.hasRegExpGroups || pathname.hasRegExpGroups
                || search.hasRegExpGroups || hash.hasRegExpGroups;
    }

    /**
     * The pattern's components, for diagnostics.
     *
     * @return a string naming each component pattern
     */
    @Override
    public String toString() {
        return "UrlPattern[protocol=" + protocol() + ", username=" + username() + ", password=" + password()
                + ", hostname=" + hostname() + ", port=" + port() + ", pathname=" + pathname() + ", search="
                + search() + ", hash=" + hash() + "]";
    }
}
