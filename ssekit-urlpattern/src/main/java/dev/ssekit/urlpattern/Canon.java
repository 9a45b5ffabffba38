package dev.ssekit.urlpattern;

/**
 * The canonicalisation callbacks of the standard (section "Canonicalization") and "process a
 * URLPatternInit", on {@link WhatwgUrl}. Each throws IllegalArgumentException where the standard
 * throws a TypeError. Stateless.
 */
final class Canon {
    private Canon() { }

    static IllegalArgumentException typeError(String what, String value) {
        return new IllegalArgumentException("invalid " + what + ": '" + value + "'");
    }

    static String protocol(String value) {
        if (value.isEmpty()) {
            return value;
        }
        WhatwgUrl u = WhatwgUrl.parse(value + "://dummy.invalid/", null);
        if (u == null) {
            throw typeError("protocol", value);
        }
        return u.scheme;
    }

    static String username(String value) {
        return value.isEmpty() ? value : WhatwgUrl.percentEncode(value, WhatwgUrl::inUserinfo);
    }

    static String password(String value) {
        return username(value);
    }

    static String hostname(String value) {
        if (value.isEmpty()) {
            return value;
        }
        WhatwgUrl dummy = WhatwgUrl.dummy();
        try {
            WhatwgUrl.parseOverride(value, dummy, WhatwgUrl.State.HOSTNAME);
        } catch (WhatwgUrl.Failure f) {
            throw typeError("hostname (" + f.getMessage() + ")", value);
        }
        return dummy.host == null ? "" : dummy.host;
    }

    static String ipv6Hostname(String value) {
        StringBuilder sb = new StringBuilder(value.length());
        for (int i = 0; i < value.length(); i++) {
            char c = value.charAt(i);
            if (!WhatwgUrl.isAsciiHex(c) && c != '[' && c != ']' && c != ':') {
                throw typeError("IPv6 hostname", value);
            }
            sb.append(Character.toLowerCase(c));
        }
        return sb.toString();
    }

    static String port(String value, String protocol) {
        if (value.isEmpty()) {
            return value;
        }
        WhatwgUrl dummy = WhatwgUrl.dummy();
        if (protocol != null) {
            dummy.scheme = protocol;
        }
        try {
            WhatwgUrl.parseOverride(value, dummy, WhatwgUrl.State.PORT);
        } catch (WhatwgUrl.Failure f) {
            throw typeError("port", value);
        }
        return dummy.portString();
    }

    static String pathname(String value) {
        if (value.isEmpty()) {
            return value;
        }
        boolean leadingSlash = value.charAt(0) == '/';
        String modified = (leadingSlash ? "" : "/-") + value;
        WhatwgUrl dummy = WhatwgUrl.dummy();
        dummy.path.clear();
        try {
            WhatwgUrl.parseOverride(modified, dummy, WhatwgUrl.State.PATH_START);
        } catch (WhatwgUrl.Failure f) {
            throw typeError("pathname", value);
        }
        String result = dummy.pathString();
        if (!leadingSlash && result.length() < 2) {
            // ".json/../": its dot segments removed the "/-" put before it, which the standard then cuts
            // off (a substring past the end): no pathname, an invalid pattern rather than a crash
            throw typeError("pathname", value);
        }
        return leadingSlash ? result : result.substring(2);
    }

    static String opaquePathname(String value) {
        if (value.isEmpty()) {
            return value;
        }
        WhatwgUrl dummy = WhatwgUrl.dummy();
        dummy.opaquePath = "";
        try {
            WhatwgUrl.parseOverride(value, dummy, WhatwgUrl.State.OPAQUE_PATH);
        } catch (WhatwgUrl.Failure f) {
            throw typeError("pathname", value);
        }
        return dummy.pathString();
    }

    static String search(String value) {
        if (value.isEmpty()) {
            return value;
        }
        WhatwgUrl dummy = WhatwgUrl.dummy();
        dummy.query = "";
        try {
            WhatwgUrl.parseOverride(value, dummy, WhatwgUrl.State.QUERY);
        } catch (WhatwgUrl.Failure f) {
            throw typeError("search", value);
        }
        return dummy.query;
    }

    static String hash(String value) {
        if (value.isEmpty()) {
            return value;
        }
        WhatwgUrl dummy = WhatwgUrl.dummy();
        dummy.fragment = "";
        try {
            WhatwgUrl.parseOverride(value, dummy, WhatwgUrl.State.FRAGMENT);
        } catch (WhatwgUrl.Failure f) {
            throw typeError("hash", value);
        }
        return dummy.fragment;
    }

    // ------------------------------------------------------------------ process a URLPatternInit

    /** A mutable URLPatternInit: null = not given. */
    static final class Init {
        String protocol;
        String username;
        String password;
        String hostname;
        String port;
        String pathname;
        String search;
        String hash;
        String baseURL;

        static Init of(UrlPatternInit i) {
            Init r = new Init();
            r.protocol = i.protocol();
            r.username = i.username();
            r.password = i.password();
            r.hostname = i.hostname();
            r.port = i.port();
            r.pathname = i.pathname();
            r.search = i.search();
            r.hash = i.hash();
            r.baseURL = i.baseURL();
            return r;
        }
    }

    /** "Process a URLPatternInit" with all the optional strings given as {@code defaults} (null = null). */
    static Init process(Init init, boolean pattern, String defaults) {
        Init result = new Init();
        result.protocol = defaults;
        result.username = defaults;
        result.password = defaults;
        result.hostname = defaults;
        result.port = defaults;
        result.pathname = defaults;
        result.search = defaults;
        result.hash = defaults;
        WhatwgUrl baseURL = null;
        if (init.baseURL != null) {
            baseURL = WhatwgUrl.parse(init.baseURL, null);
            if (baseURL == null) {
                throw typeError("baseURL", init.baseURL);
            }
            if (init.protocol == null) {
                result.protocol = base(baseURL.scheme, pattern);
            }
            if (!pattern && init.protocol == null && init.hostname == null && init.port == null
                    && init.username == null) {
                result.username = base(baseURL.username, pattern);
            }
            if (!pattern && init.protocol == null && init.hostname == null && init.port == null
                    && init.username == null && init.password == null) {
                result.password = base(baseURL.password, pattern);
            }
            if (init.protocol == null && init.hostname == null) {
                result.hostname = base(baseURL.host == null ? "" : baseURL.host, pattern);
            }
            if (init.protocol == null && init.hostname == null && init.port == null) {
                result.port = baseURL.portString();
            }
            if (init.protocol == null && init.hostname == null && init.port == null && init.pathname == null) {
                result.pathname = base(baseURL.pathString(), pattern);
            }
            if (init.protocol == null && init.hostname == null && init.port == null && init.pathname == null
                    && init.search == null) {
                result.search = base(baseURL.query == null ? "" : baseURL.query, pattern);
            }
            if (init.protocol == null && init.hostname == null && init.port == null && init.pathname == null
                    && init.search == null && init.hash == null) {
                result.hash = base(baseURL.fragment == null ? "" : baseURL.fragment, pattern);
            }
        }
        if (init.protocol != null) {
            String stripped = init.protocol.endsWith(":")
                    ? init.protocol.substring(0, init.protocol.length() - 1) : init.protocol;
            result.protocol = pattern ? stripped : protocol(stripped);
        }
        if (init.username != null) {
            result.username = pattern ? init.username : username(init.username);
        }
        if (init.password != null) {
            result.password = pattern ? init.password : password(init.password);
        }
        if (init.hostname != null) {
            result.hostname = pattern ? init.hostname : hostname(init.hostname);
        }
        String resultProtocol = result.protocol != null ? result.protocol : "";
        if (init.port != null) {
            result.port = pattern ? init.port : port(init.port, resultProtocol);
        }
        if (init.pathname != null) {
            result.pathname = init.pathname;
            if (baseURL != null && baseURL.opaquePath == null && !isAbsolutePathname(result.pathname, pattern)) {
                String basePath = base(baseURL.pathString(), pattern);
                int slash = basePath.lastIndexOf('/');
                if (slash >= 0) {
                    result.pathname = basePath.substring(0, slash + 1) + result.pathname;
                }
            }
            if (!pattern) {
                if (resultProtocol.isEmpty() || WhatwgUrl.isSpecialScheme(resultProtocol)) {
                    result.pathname = pathname(result.pathname);
                } else {
                    result.pathname = opaquePathname(result.pathname);
                }
            }
        }
        if (init.search != null) {
            String stripped = init.search.startsWith("?") ? init.search.substring(1) : init.search;
            result.search = pattern ? stripped : search(stripped);
        }
        if (init.hash != null) {
            String stripped = init.hash.startsWith("#") ? init.hash.substring(1) : init.hash;
            result.hash = pattern ? stripped : hash(stripped);
        }
        return result;
    }

    private static String base(String input, boolean pattern) {
        return pattern ? PatternParser.escapePatternString(input) : input;
    }

    static boolean isAbsolutePathname(String input, boolean pattern) {
        if (input.isEmpty()) {
            return false;
        }
        if (input.charAt(0) == '/') {
            return true;
        }
        if (!pattern || input.length() < 2) {
            return false;
        }
        return (input.charAt(0) == '\\' || input.charAt(0) == '{') && input.charAt(1) == '/';
    }
}
