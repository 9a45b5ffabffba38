package dev.ssekit.urlpattern;

import java.net.IDN;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * A URL record and the basic URL parser of the WHATWG URL Standard (https://url.spec.whatwg.org/),
 * with the state overrides URL Pattern canonicalisation needs (hostname, port, path start, opaque
 * path, query, fragment). UTF-8 only; validation errors that are not failures are ignored, as the
 * standard allows. Domain to ASCII: ASCII input is lower-cased and checked (what UTS #46 does to
 * ASCII); other input goes through {@link IDN#toASCII(String, int)}, which is IDNA2003 rather than
 * UTS #46 nontransitional processing (the differences are in a few mapped code points such as
 * U+00DF, U+03C2, ZWJ/ZWNJ, which IDNA2003 maps and UTS #46 keeps). Not thread-safe while parsing;
 * instances are confined to the call that makes them.
 */
final class WhatwgUrl {
    String scheme = "";
    String username = "";
    String password = "";
    String host; // serialized, or null
    int port = -1; // -1 = null
    List<String> path = new ArrayList<>();
    String opaquePath; // non-null = has an opaque path
    String query;
    String fragment;

    /** The exception for a parse failure; never leaves the package. */
    static final class Failure extends Exception {
        private static final long serialVersionUID = 1L;

        Failure(String message) {
            super(message, null, false, false);
        }
    }

    enum State {
        SCHEME_START, SCHEME, NO_SCHEME, SPECIAL_RELATIVE_OR_AUTHORITY, PATH_OR_AUTHORITY, RELATIVE,
        RELATIVE_SLASH, SPECIAL_AUTHORITY_SLASHES, SPECIAL_AUTHORITY_IGNORE_SLASHES, AUTHORITY, HOST,
        HOSTNAME, PORT, FILE, FILE_SLASH, FILE_HOST, PATH_START, PATH, OPAQUE_PATH, QUERY, FRAGMENT
    }

    static boolean isSpecialScheme(String s) {
        return switch (s) {
            case "http", "https", "ws", "wss", "ftp", "file" -> true;
            default -> false;
        };
    }

    static int defaultPort(String s) {
        return switch (s) {
            case "http", "ws" -> 80;
            case "https", "wss" -> 443;
            case "ftp" -> 21;
            default -> -1;
        };
    }

    boolean isSpecial() {
        return isSpecialScheme(scheme);
    }

    boolean includesCredentials() {
        return !username.isEmpty() || !password.isEmpty();
    }

    String pathString() {
        if (opaquePath != null) {
            return opaquePath;
        }
        StringBuilder sb = new StringBuilder();
        for (String seg : path) {
            sb.append('/').append(seg);
        }
        return sb.toString();
    }

    String portString() {
        return port < 0 ? "" : Integer.toString(port);
    }

    // ---------------------------------------------------------------- percent-encode sets

    static boolean inC0(int c) {
        return c < 0x20 || c > 0x7E;
    }

    static boolean inFragment(int c) {
        return inC0(c) || c == ' ' || c == '"' || c == '<' || c == '>' || c == '`';
    }

    static boolean inQuery(int c) {
        return inC0(c) || c == ' ' || c == '"' || c == '#' || c == '<' || c == '>';
    }

    static boolean inSpecialQuery(int c) {
        return inQuery(c) || c == '\'';
    }

    static boolean inPath(int c) {
        return inQuery(c) || c == '?' || c == '^' || c == '`' || c == '{' || c == '}';
    }

    static boolean inUserinfo(int c) {
        return inPath(c) || c == '/' || c == ':' || c == ';' || c == '=' || c == '@'
                || (c >= '[' && c <= ']') || c == '|';
    }

    interface EncodeSet {
        boolean contains(int c);
    }

    static void percentEncode(StringBuilder out, int c, EncodeSet set) {
        if (c >= 0xD800 && c <= 0xDFFF) {
            c = 0xFFFD; // a lone surrogate: the USVString conversion replaces it
        }
        if (!set.contains(c)) {
            out.appendCodePoint(c);
            return;
        }
        byte[] bytes = new String(Character.toChars(c)).getBytes(StandardCharsets.UTF_8);
        for (byte b : bytes) {
            out.append('%').append(HEX[(b >> 4) & 0xF]).append(HEX[b & 0xF]);
        }
    }

    static String percentEncode(String s, EncodeSet set) {
        StringBuilder sb = new StringBuilder(s.length());
        s.codePoints().forEach(c -> percentEncode(sb, c, set));
        return sb.toString();
    }

    private static final char[] HEX = "0123456789ABCDEF".toCharArray();

    static byte[] percentDecode(String s) {
        byte[] in = s.getBytes(StandardCharsets.UTF_8);
        byte[] out = new byte[in.length];
        int n = 0;
        for (int i = 0; i < in.length; i++) {
            byte b = in[i];
            if (b == '%' && i + 2 < in.length && hex(in[i + 1]) >= 0 && hex(in[i + 2]) >= 0) {
                out[n++] = (byte) (hex(in[i + 1]) * 16 + hex(in[i + 2]));
                i += 2;
            } else {
                out[n++] = b;
            }
        }
        return java.util.Arrays.copyOf(out, n);
    }

    private static int hex(int b) {
        if (b >= '0' && b <= '9') {
            return b - '0';
        }
        if (b >= 'a' && b <= 'f') {
            return b - 'a' + 10;
        }
        if (b >= 'A' && b <= 'F') {
            return b - 'A' + 10;
        }
        return -1;
    }

    static boolean isAsciiAlpha(int c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
    }

    static boolean isAsciiDigit(int c) {
        return c >= '0' && c <= '9';
    }

    static boolean isAsciiHex(int c) {
        return hex(c) >= 0;
    }

    // ---------------------------------------------------------------- entry points

    /** The basic URL parser without url or state override: null on failure. */
    static WhatwgUrl parse(String input, WhatwgUrl base) {
        WhatwgUrl url = new WhatwgUrl();
        try {
            new Parser(input, base, url, null, true).run();
            return url;
        } catch (Failure f) {
            return null;
        }
    }

    /** The basic URL parser with a url and a state override; throws on failure. */
    static void parseOverride(String input, WhatwgUrl url, State override) throws Failure {
        new Parser(input, null, url, override, false).run();
    }

    /** https://dummy.invalid/ */
    static WhatwgUrl dummy() {
        WhatwgUrl u = new WhatwgUrl();
        u.scheme = "https";
        u.host = "dummy.invalid";
        u.path.add("");
        return u;
    }

    // ---------------------------------------------------------------- the parser

    private static final class Parser {
        final int[] in;
        final WhatwgUrl base;
        final WhatwgUrl url;
        final State override;
        State state;
        int p;
        final StringBuilder buffer = new StringBuilder();
        boolean atSignSeen;
        boolean insideBrackets;
        boolean passwordTokenSeen;

        Parser(String input, WhatwgUrl base, WhatwgUrl url, State override, boolean trim) {
            String s = input;
            if (trim) {
                int a = 0;
                int b = s.length();
                while (a < b && s.charAt(a) <= 0x20) {
                    a++;
                }
                while (b > a && s.charAt(b - 1) <= 0x20) {
                    b--;
                }
                s = s.substring(a, b);
            }
            int[] cps = new int[s.length()];
            int n = 0;
            for (int i = 0; i < s.length(); ) {
                int c = s.codePointAt(i);
                i += Character.charCount(c);
                if (c != '\t' && c != '\n' && c != '\r') {
                    cps[n++] = c;
                }
            }
            this.in = n == cps.length ? cps : java.util.Arrays.copyOf(cps, n);
            this.base = base;
            this.url = url;
            this.override = override;
            this.state = override == null ? State.SCHEME_START : override;
        }

        int c() {
            return p < in.length && p >= 0 ? in[p] : -1;
        }

        int at(int i) {
            return i < in.length && i >= 0 ? in[i] : -1;
        }

        void run() throws Failure {
            for (p = 0; ; p++) {
                if (!step()) {
                    return;
                }
                if (p >= in.length) {
                    return;
                }
            }
        }

        /** One step of the state machine for c = in[p] (EOF when p == length); false to return. */
        boolean step() throws Failure {
            int c = c();
            switch (state) {
                case SCHEME_START -> {
                    if (isAsciiAlpha(c)) {
                        buffer.appendCodePoint(Character.toLowerCase(c));
                        state = State.SCHEME;
                    } else if (override == null) {
                        state = State.NO_SCHEME;
                        p--;
                    } else {
                        throw new Failure("scheme");
                    }
                }
                case SCHEME -> {
                    if (isAsciiAlpha(c) || isAsciiDigit(c) || c == '+' || c == '-' || c == '.') {
                        buffer.appendCodePoint(Character.toLowerCase(c));
                    } else if (c == ':') {
                        url.scheme = buffer.toString();
                        buffer.setLength(0);
                        if (url.scheme.equals("file")) {
                            state = State.FILE;
                        } else if (url.isSpecial() && base != null && base.scheme.equals(url.scheme)) {
                            state = State.SPECIAL_RELATIVE_OR_AUTHORITY;
                        } else if (url.isSpecial()) {
                            state = State.SPECIAL_AUTHORITY_SLASHES;
                        } else if (at(p + 1) == '/') {
                            state = State.PATH_OR_AUTHORITY;
                            p++;
                        } else {
                            url.opaquePath = "";
                            state = State.OPAQUE_PATH;
                        }
                    } else if (override == null) {
                        buffer.setLength(0);
                        state = State.NO_SCHEME;
                        p = -1;
                    } else {
                        throw new Failure("scheme");
                    }
                }
                case NO_SCHEME -> {
                    if (base == null || (base.opaquePath != null && c != '#')) {
                        throw new Failure("missing scheme");
                    } else if (base.opaquePath != null && c == '#') {
                        url.scheme = base.scheme;
                        url.path = new ArrayList<>(base.path);
                        url.opaquePath = base.opaquePath;
                        url.query = base.query;
                        url.fragment = "";
                        state = State.FRAGMENT;
                    } else if (!base.scheme.equals("file")) {
                        state = State.RELATIVE;
                        p--;
                    } else {
                        state = State.FILE;
                        p--;
                    }
                }
                case SPECIAL_RELATIVE_OR_AUTHORITY -> {
                    if (c == '/' && at(p + 1) == '/') {
                        state = State.SPECIAL_AUTHORITY_IGNORE_SLASHES;
                        p++;
                    } else {
                        state = State.RELATIVE;
                        p--;
                    }
                }
                case PATH_OR_AUTHORITY -> {
                    if (c == '/') {
                        state = State.AUTHORITY;
                    } else {
                        state = State.PATH;
                        p--;
                    }
                }
                case RELATIVE -> {
                    url.scheme = base.scheme;
                    if (c == '/') {
                        state = State.RELATIVE_SLASH;
                    } else if (url.isSpecial() && c == '\\') {
                        state = State.RELATIVE_SLASH;
                    } else {
                        url.username = base.username;
                        url.password = base.password;
                        url.host = base.host;
                        url.port = base.port;
                        url.path = new ArrayList<>(base.path);
                        url.query = base.query;
                        if (c == '?') {
                            url.query = "";
                            state = State.QUERY;
                        } else if (c == '#') {
                            url.fragment = "";
                            state = State.FRAGMENT;
                        } else if (c != -1) {
                            url.query = null;
                            shortenPath();
                            state = State.PATH;
                            p--;
                        }
                    }
                }
                case RELATIVE_SLASH -> {
                    if (url.isSpecial() && (c == '/' || c == '\\')) {
                        state = State.SPECIAL_AUTHORITY_IGNORE_SLASHES;
                    } else if (c == '/') {
                        state = State.AUTHORITY;
                    } else {
                        url.username = base.username;
                        url.password = base.password;
                        url.host = base.host;
                        url.port = base.port;
                        state = State.PATH;
                        p--;
                    }
                }
                case SPECIAL_AUTHORITY_SLASHES -> {
                    if (c == '/' && at(p + 1) == '/') {
                        state = State.SPECIAL_AUTHORITY_IGNORE_SLASHES;
                        p++;
                    } else {
                        state = State.SPECIAL_AUTHORITY_IGNORE_SLASHES;
                        p--;
                    }
                }
                case SPECIAL_AUTHORITY_IGNORE_SLASHES -> {
                    if (c != '/' && c != '\\') {
                        state = State.AUTHORITY;
                        p--;
                    }
                }
                case AUTHORITY -> {
                    if (c == '@') {
                        if (atSignSeen) {
                            buffer.insert(0, "%40");
                        }
                        atSignSeen = true;
                        String b = buffer.toString();
                        int[] cps = b.codePoints().toArray();
                        StringBuilder user = new StringBuilder(url.username);
                        StringBuilder pass = new StringBuilder(url.password);
                        for (int cp : cps) {
                            if (cp == ':' && !passwordTokenSeen) {
                                passwordTokenSeen = true;
                                continue;
                            }
                            percentEncode(passwordTokenSeen ? pass : user, cp, WhatwgUrl::inUserinfo);
                        }
                        url.username = user.toString();
                        url.password = pass.toString();
                        buffer.setLength(0);
                    } else if (c == -1 || c == '/' || c == '?' || c == '#' || (url.isSpecial() && c == '\\')) {
                        if (atSignSeen && buffer.isEmpty()) {
                            throw new Failure("host missing");
                        }
                        p -= buffer.codePointCount(0, buffer.length()) + 1;
                        buffer.setLength(0);
                        state = State.HOST;
                    } else {
                        buffer.appendCodePoint(c);
                    }
                }
                case HOST, HOSTNAME -> {
                    if (override != null && url.scheme.equals("file")) {
                        p--;
                        state = State.FILE_HOST;
                    } else if (c == ':' && !insideBrackets) {
                        if (buffer.isEmpty()) {
                            throw new Failure("host missing");
                        }
                        if (override == State.HOSTNAME) {
                            throw new Failure("port in hostname");
                        }
                        url.host = parseHost(buffer.toString(), !url.isSpecial());
                        buffer.setLength(0);
                        state = State.PORT;
                    } else if (c == -1 || c == '/' || c == '?' || c == '#' || (url.isSpecial() && c == '\\')) {
                        p--;
                        if (url.isSpecial() && buffer.isEmpty()) {
                            throw new Failure("host missing");
                        } else if (override != null && buffer.isEmpty()
                                && (url.includesCredentials() || url.port >= 0)) {
                            return false;
                        }
                        url.host = parseHost(buffer.toString(), !url.isSpecial());
                        buffer.setLength(0);
                        state = State.PATH_START;
                        if (override != null) {
                            return false;
                        }
                    } else {
                        if (c == '[') {
                            insideBrackets = true;
                        }
                        if (c == ']') {
                            insideBrackets = false;
                        }
                        buffer.appendCodePoint(c);
                    }
                }
                case PORT -> {
                    if (isAsciiDigit(c)) {
                        buffer.appendCodePoint(c);
                    } else if (c == -1 || c == '/' || c == '?' || c == '#' || (url.isSpecial() && c == '\\')
                            || override != null) {
                        if (!buffer.isEmpty()) {
                            int port = 0;
                            for (int i = 0; i < buffer.length(); i++) {
                                port = port * 10 + (buffer.charAt(i) - '0');
                                if (port > 65535) {
                                    throw new Failure("port out of range");
                                }
                            }
                            url.port = port == defaultPort(url.scheme) ? -1 : port;
                            buffer.setLength(0);
                            if (override != null) {
                                return false;
                            }
                        }
                        if (override != null) {
                            throw new Failure("invalid port");
                        }
                        state = State.PATH_START;
                        p--;
                    } else {
                        throw new Failure("invalid port");
                    }
                }
                case FILE -> {
                    url.scheme = "file";
                    url.host = "";
                    if (c == '/' || c == '\\') {
                        state = State.FILE_SLASH;
                    } else if (base != null && base.scheme.equals("file")) {
                        url.host = base.host;
                        url.path = new ArrayList<>(base.path);
                        url.query = base.query;
                        if (c == '?') {
                            url.query = "";
                            state = State.QUERY;
                        } else if (c == '#') {
                            url.fragment = "";
                            state = State.FRAGMENT;
                        } else if (c != -1) {
                            url.query = null;
                            if (!startsWithWindowsDriveLetter(p)) {
                                shortenPath();
                            } else {
                                url.path = new ArrayList<>();
                            }
                            state = State.PATH;
                            p--;
                        }
                    } else {
                        state = State.PATH;
                        p--;
                    }
                }
                case FILE_SLASH -> {
                    if (c == '/' || c == '\\') {
                        state = State.FILE_HOST;
                    } else {
                        if (base != null && base.scheme.equals("file")) {
                            url.host = base.host;
                            if (!startsWithWindowsDriveLetter(p) && !base.path.isEmpty()
                                    && isNormalizedWindowsDriveLetter(base.path.get(0))) {
                                url.path.add(base.path.get(0));
                            }
                        }
                        state = State.PATH;
                        p--;
                    }
                }
                case FILE_HOST -> {
                    if (c == -1 || c == '/' || c == '\\' || c == '?' || c == '#') {
                        p--;
                        if (override == null && isWindowsDriveLetter(buffer.toString(), false)) {
                            state = State.PATH;
                        } else if (buffer.isEmpty()) {
                            url.host = "";
                            if (override != null) {
                                return false;
                            }
                            state = State.PATH_START;
                        } else {
                            String h = parseHost(buffer.toString(), false);
                            if (h.equals("localhost")) {
                                h = "";
                            }
                            url.host = h;
                            if (override != null) {
                                return false;
                            }
                            buffer.setLength(0);
                            state = State.PATH_START;
                        }
                    } else {
                        buffer.appendCodePoint(c);
                    }
                }
                case PATH_START -> {
                    if (url.isSpecial()) {
                        state = State.PATH;
                        if (c != '/' && c != '\\') {
                            p--;
                        }
                    } else if (override == null && c == '?') {
                        url.query = "";
                        state = State.QUERY;
                    } else if (override == null && c == '#') {
                        url.fragment = "";
                        state = State.FRAGMENT;
                    } else if (c != -1) {
                        state = State.PATH;
                        if (c != '/') {
                            p--;
                        }
                    } else if (override != null && url.host == null) {
                        url.path.add("");
                    }
                }
                case PATH -> {
                    boolean slash = c == '/' || (url.isSpecial() && c == '\\');
                    if (c == -1 || slash || (override == null && (c == '?' || c == '#'))) {
                        String b = buffer.toString();
                        if (isDoubleDot(b)) {
                            shortenPath();
                            if (!slash) {
                                url.path.add("");
                            }
                        } else if (isSingleDot(b) && !slash) {
                            url.path.add("");
                        } else if (!isSingleDot(b)) {
                            if (url.scheme.equals("file") && url.path.isEmpty() && isWindowsDriveLetter(b, false)) {
                                b = b.charAt(0) + ":" + b.substring(2);
                            }
                            url.path.add(b);
                        }
                        buffer.setLength(0);
                        if (c == '?') {
                            url.query = "";
                            state = State.QUERY;
                        }
                        if (c == '#') {
                            url.fragment = "";
                            state = State.FRAGMENT;
                        }
                    } else {
                        percentEncode(buffer, c, WhatwgUrl::inPath);
                    }
                }
                case OPAQUE_PATH -> {
                    if (c == '?') {
                        url.query = "";
                        state = State.QUERY;
                    } else if (c == '#') {
                        url.fragment = "";
                        state = State.FRAGMENT;
                    } else if (c == ' ') {
                        url.opaquePath += (at(p + 1) == '?' || at(p + 1) == '#') ? "%20" : " ";
                    } else if (c != -1) {
                        StringBuilder sb = new StringBuilder(url.opaquePath);
                        percentEncode(sb, c, WhatwgUrl::inC0);
                        url.opaquePath = sb.toString();
                    }
                }
                case QUERY -> {
                    if ((override == null && c == '#') || c == -1) {
                        EncodeSet set = url.isSpecial() ? WhatwgUrl::inSpecialQuery : WhatwgUrl::inQuery;
                        StringBuilder sb = new StringBuilder(url.query);
                        buffer.codePoints().forEach(cp -> percentEncode(sb, cp, set));
                        url.query = sb.toString();
                        buffer.setLength(0);
                        if (c == '#') {
                            url.fragment = "";
                            state = State.FRAGMENT;
                        }
                    } else {
                        buffer.appendCodePoint(c);
                    }
                }
                case FRAGMENT -> {
                    if (c != -1) {
                        StringBuilder sb = new StringBuilder(url.fragment);
                        percentEncode(sb, c, WhatwgUrl::inFragment);
                        url.fragment = sb.toString();
                    }
                }
            }
            return true;
        }

        void shortenPath() {
            if (url.scheme.equals("file") && url.path.size() == 1 && isNormalizedWindowsDriveLetter(url.path.get(0))) {
                return;
            }
            if (!url.path.isEmpty()) {
                url.path.remove(url.path.size() - 1);
            }
        }

        boolean startsWithWindowsDriveLetter(int i) {
            if (in.length - i < 2) {
                return false;
            }
            if (!isAsciiAlpha(at(i)) || (at(i + 1) != ':' && at(i + 1) != '|')) {
                return false;
            }
            if (in.length - i == 2) {
                return true;
            }
            int c = at(i + 2);
            return c == '/' || c == '\\' || c == '?' || c == '#';
        }
    }

    static boolean isWindowsDriveLetter(String s, boolean normalized) {
        return s.length() == 2 && isAsciiAlpha(s.charAt(0))
                && (s.charAt(1) == ':' || (!normalized && s.charAt(1) == '|'));
    }

    static boolean isNormalizedWindowsDriveLetter(String s) {
        return isWindowsDriveLetter(s, true);
    }

    static boolean isSingleDot(String s) {
        return s.equals(".") || s.equalsIgnoreCase("%2e");
    }

    static boolean isDoubleDot(String s) {
        return switch (s.toLowerCase(Locale.ROOT)) {
            case "..", ".%2e", "%2e.", "%2e%2e" -> true;
            default -> false;
        };
    }

    // ---------------------------------------------------------------- hosts

    static boolean isForbiddenHost(int c) {
        return switch (c) {
            case 0, '\t', '\n', '\r', ' ', '#', '/', ':', '<', '>', '?', '@', '[', '\\', ']', '^', '|' -> true;
            default -> false;
        };
    }

    static boolean isForbiddenDomain(int c) {
        return isForbiddenHost(c) || (c >= 0 && c <= 0x1F) || c == '%' || c == 0x7F;
    }

    /** The host parser: the serialized host, or Failure. */
    static String parseHost(String input, boolean isOpaque) throws Failure {
        if (input.startsWith("[")) {
            if (!input.endsWith("]")) {
                throw new Failure("IPv6 unclosed");
            }
            return "[" + serializeIpv6(parseIpv6(input.substring(1, input.length() - 1))) + "]";
        }
        if (isOpaque) {
            for (int i = 0; i < input.length(); i++) {
                if (isForbiddenHost(input.charAt(i))) {
                    throw new Failure("forbidden host code point");
                }
            }
            return percentEncode(input, WhatwgUrl::inC0);
        }
        String domain = new String(percentDecode(input), StandardCharsets.UTF_8);
        String ascii = domainToAscii(domain);
        for (int i = 0; i < ascii.length(); i++) {
            if (isForbiddenDomain(ascii.charAt(i))) {
                throw new Failure("forbidden domain code point");
            }
        }
        if (endsInNumber(ascii)) {
            long v = parseIpv4(ascii);
            return (v >> 24) + "." + ((v >> 16) & 255) + "." + ((v >> 8) & 255) + "." + (v & 255);
        }
        return ascii;
    }

    static String domainToAscii(String domain) throws Failure {
        boolean ascii = true;
        for (int i = 0; i < domain.length(); i++) {
            if (domain.charAt(i) >= 0x80) {
                ascii = false;
                break;
            }
        }
        if (ascii) {
            String lower = domain.toLowerCase(Locale.ROOT);
            for (String label : lower.contains("xn--") ? lower.split("\\.", -1) : NO_LABELS) {
                if (label.startsWith("xn--")) {
                    try {
                        String u = IDN.toUnicode(label, IDN.ALLOW_UNASSIGNED);
                        if (u.equals(label) || u.isEmpty()) {
                            throw new Failure("invalid punycode");
                        }
                    } catch (IllegalArgumentException e) {
                        throw new Failure("invalid punycode");
                    }
                }
            }
            if (lower.isEmpty()) {
                throw new Failure("empty host");
            }
            return lower;
        }
        try {
            // IDNA2003 maps these full stops itself; map them first so label handling sees dots
            String mapped = domain.replace('\u3002', '.').replace('\uFF0E', '.').replace('\uFF61', '.');
            String r = IDN.toASCII(mapped, IDN.ALLOW_UNASSIGNED).toLowerCase(Locale.ROOT);
            if (r.isEmpty()) {
                throw new Failure("empty host");
            }
            return r;
        } catch (IllegalArgumentException e) {
            throw new Failure("IDNA: " + e.getMessage());
        }
    }

    private static final String[] NO_LABELS = new String[0];

    static boolean endsInNumber(String s) {
        int end = s.length();
        if (end > 0 && s.charAt(end - 1) == '.') {
            if (end == 1) {
                return false;
            }
            end--;
        }
        String last = s.substring(s.lastIndexOf('.', end - 1) + 1, end);
        if (!last.isEmpty() && WhatwgUrl.isAsciiAlpha(last.charAt(last.length() - 1))
                && !(last.startsWith("0x") || last.startsWith("0X"))) {
            return false; // the common case, a domain label: neither digits nor a hex number
        }
        if (!last.isEmpty() && last.chars().allMatch(WhatwgUrl::isAsciiDigit)) {
            return true;
        }
        return parseIpv4Number(last) >= 0;
    }

    /** -1 on failure. */
    static long parseIpv4Number(String s) {
        if (s.isEmpty()) {
            return -1;
        }
        int radix = 10;
        if (s.length() >= 2 && (s.startsWith("0x") || s.startsWith("0X"))) {
            s = s.substring(2);
            radix = 16;
        } else if (s.length() >= 2 && s.charAt(0) == '0') {
            s = s.substring(1);
            radix = 8;
        }
        if (s.isEmpty()) {
            return 0;
        }
        long v = 0;
        for (int i = 0; i < s.length(); i++) {
            int d = Character.digit(s.charAt(i), radix);
            if (d < 0 || s.charAt(i) >= 0x80) {
                return -1;
            }
            v = v * radix + d;
            if (v > 0xFFFFFFFFFL) {
                v = 0xFFFFFFFFFL; // saturate: already out of any range
            }
        }
        return v;
    }

    static long parseIpv4(String s) throws Failure {
        List<String> parts = new ArrayList<>(List.of(s.split("\\.", -1)));
        if (parts.get(parts.size() - 1).isEmpty() && parts.size() > 1) {
            parts.remove(parts.size() - 1);
        }
        if (parts.size() > 4) {
            throw new Failure("IPv4 too many parts");
        }
        long[] nums = new long[parts.size()];
        for (int i = 0; i < parts.size(); i++) {
            nums[i] = parseIpv4Number(parts.get(i));
            if (nums[i] < 0) {
                throw new Failure("IPv4 non-numeric part");
            }
        }
        for (int i = 0; i < nums.length - 1; i++) {
            if (nums[i] > 255) {
                throw new Failure("IPv4 part out of range");
            }
        }
        long last = nums[nums.length - 1];
        if (last >= 1L << (8 * (5 - nums.length))) {
            throw new Failure("IPv4 out of range");
        }
        long v = last;
        for (int i = 0; i < nums.length - 1; i++) {
            v += nums[i] << (8 * (3 - i));
        }
        return v;
    }

    static int[] parseIpv6(String s) throws Failure {
        int[] addr = new int[8];
        int piece = 0;
        int compress = -1;
        int[] in = s.codePoints().toArray();
        int p = 0;
        java.util.function.IntUnaryOperator at = i -> i < in.length ? in[i] : -1;
        if (at.applyAsInt(p) == ':') {
            if (at.applyAsInt(p + 1) != ':') {
                throw new Failure("IPv6 invalid compression");
            }
            p += 2;
            piece++;
            compress = piece;
        }
        while (at.applyAsInt(p) != -1) {
            if (piece == 8) {
                throw new Failure("IPv6 too many pieces");
            }
            if (at.applyAsInt(p) == ':') {
                if (compress >= 0) {
                    throw new Failure("IPv6 multiple compression");
                }
                p++;
                piece++;
                compress = piece;
                continue;
            }
            int value = 0;
            int length = 0;
            while (length < 4 && isAsciiHex(at.applyAsInt(p))) {
                value = value * 16 + hex(at.applyAsInt(p));
                p++;
                length++;
            }
            if (at.applyAsInt(p) == '.') {
                if (length == 0) {
                    throw new Failure("IPv4 in IPv6 invalid");
                }
                p -= length;
                if (piece > 6) {
                    throw new Failure("IPv4 in IPv6 too many pieces");
                }
                int numbersSeen = 0;
                while (at.applyAsInt(p) != -1) {
                    int ipv4Piece = -1;
                    if (numbersSeen > 0) {
                        if (at.applyAsInt(p) == '.' && numbersSeen < 4) {
                            p++;
                        } else {
                            throw new Failure("IPv4 in IPv6 invalid");
                        }
                    }
                    if (!isAsciiDigit(at.applyAsInt(p))) {
                        throw new Failure("IPv4 in IPv6 invalid");
                    }
                    while (isAsciiDigit(at.applyAsInt(p))) {
                        int n = at.applyAsInt(p) - '0';
                        if (ipv4Piece == -1) {
                            ipv4Piece = n;
                        } else if (ipv4Piece == 0) {
                            throw new Failure("IPv4 in IPv6 leading zero");
                        } else {
                            ipv4Piece = ipv4Piece * 10 + n;
                        }
                        if (ipv4Piece > 255) {
                            throw new Failure("IPv4 in IPv6 out of range");
                        }
                        p++;
                    }
                    addr[piece] = addr[piece] * 0x100 + ipv4Piece;
                    numbersSeen++;
                    if (numbersSeen == 2 || numbersSeen == 4) {
                        piece++;
                    }
                }
                if (numbersSeen != 4) {
                    throw new Failure("IPv4 in IPv6 too few parts");
                }
                break;
            } else if (at.applyAsInt(p) == ':') {
                p++;
                if (at.applyAsInt(p) == -1) {
                    throw new Failure("IPv6 invalid");
                }
            } else if (at.applyAsInt(p) != -1) {
                throw new Failure("IPv6 invalid code point");
            }
            addr[piece] = value;
            piece++;
        }
        if (compress >= 0) {
            int swaps = piece - compress;
            piece = 7;
            while (piece != 0 && swaps > 0) {
                int t = addr[piece];
                addr[piece] = addr[compress + swaps - 1];
                addr[compress + swaps - 1] = t;
                piece--;
                swaps--;
            }
        } else if (piece != 8) {
            throw new Failure("IPv6 too few pieces");
        }
        return addr;
    }

    static String serializeIpv6(int[] a) {
        int best = -1;
        int bestLen = 1;
        for (int i = 0; i < 8; ) {
            if (a[i] == 0) {
                int j = i;
                while (j < 8 && a[j] == 0) {
                    j++;
                }
                if (j - i > bestLen) {
                    best = i;
                    bestLen = j - i;
                }
                i = j;
            } else {
                i++;
            }
        }
        StringBuilder sb = new StringBuilder();
        boolean ignore0 = false;
        for (int i = 0; i < 8; i++) {
            if (ignore0 && a[i] == 0) {
                continue;
            }
            ignore0 = false;
            if (best == i) {
                sb.append(i == 0 ? "::" : ":");
                ignore0 = true;
                continue;
            }
            sb.append(Integer.toHexString(a[i]));
            if (i != 7) {
                sb.append(':');
            }
        }
        return sb.toString();
    }
}
