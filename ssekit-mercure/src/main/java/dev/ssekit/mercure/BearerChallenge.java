package dev.ssekit.mercure;

import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

/**
 * The parameters of a {@code Bearer} challenge in a {@code WWW-Authenticate} value (RFC 6750
 * section 3, RFC 9110 section 11.6.1: {@code auth-param = token "=" ( token / quoted-string )}).
 * Written by hand: the JDK has no parser for it and the grammar is a dozen lines. Other schemes in
 * the same header are skipped. Immutable.
 *
 * @param params the parameters by lower-case name; empty for none, or for no Bearer challenge
 */
record BearerChallenge(Map<String, String> params) {

    /**
     * Parses a header value.
     *
     * @param header the {@code WWW-Authenticate} value, or null
     * @return the Bearer challenge's parameters (empty when there is none); never throws
     */
    static BearerChallenge parse(String header) {
        Map<String, String> out = new LinkedHashMap<>();
        if (header == null) {
            return new BearerChallenge(out);
        }
        int i = 0;
        int n = header.length();
        boolean inBearer = false;
        while (i < n) {
            while (i < n && (header.charAt(i) == ' ' || header.charAt(i) == ',' || header.charAt(i) == '\t')) {
                i++;
            }
            int start = i;
            while (i < n && isTokenChar(header.charAt(i))) {
                i++;
            }
            if (i == start) {
                i++; // not a token: skip the character
                continue;
            }
            String name = header.substring(start, i);
            int j = i;
            while (j < n && (header.charAt(j) == ' ' || header.charAt(j) == '\t')) {
                j++;
            }
            if (j < n && header.charAt(j) == '=' && !(j + 1 < n && header.charAt(j + 1) == '=')) {
                // a parameter
                j++;
                while (j < n && (header.charAt(j) == ' ' || header.charAt(j) == '\t')) {
                    j++;
                }
                StringBuilder value = new StringBuilder();
                if (j < n && header.charAt(j) == '"') {
                    j++;
                    while (j < n && header.charAt(j) != '"') {
                        if (header.charAt(j) == '\\' && j + 1 < n) {
                            j++;
                        }
                        value.append(header.charAt(j));
                        j++;
                    }
                    j++; // closing quote
                } else {
                    while (j < n && isTokenChar(header.charAt(j))) {
                        value.append(header.charAt(j));
                        j++;
                    }
                }
                if (inBearer) {
                    out.putIfAbsent(name.toLowerCase(Locale.ROOT), value.toString());
                }
                i = j;
            } else {
                // a scheme name starts a new challenge
                if (inBearer) {
                    break;
                }
                inBearer = name.equalsIgnoreCase("Bearer");
            }
        }
        return new BearerChallenge(Map.copyOf(out));
    }

    private static boolean isTokenChar(char c) {
        return c > 0x20 && c < 0x7f && "()<>@,;:\\\"/[]?={} \t".indexOf(c) < 0;
    }
}
